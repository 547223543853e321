"""When did the version reach the upstream environment? The soak gate's arrival time.

A merged promotion PR says when; without one (a person bumped the upstream environment by hand),
the newest commit that touched the version's file does, which is never earlier than the real
arrival: the gate may wait longer than needed, never pass early.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core.inputs.events import ImagePushed, PullChanged
from bot.services.bump import handle_image_pushed
from bot.services.review import CHECK_NAME, handle_pull_changed
from tests.services.conftest import (
    DIRECTORY_CONFIG,
    ENV_REPO,
    close,
    directory_repo,
    values,
    workspace,
)
from tests.services.fakes import FakeGitHub

STAGING_VALUES = "envs/staging/values.yaml"


def pushed(tag: str) -> ImagePushed:
    return ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag=tag)


def changed(number: int, head: str) -> PullChanged:
    return PullChanged(
        installation_id=1,
        repo=ENV_REPO,
        number=number,
        action="opened",
        head_ref=head,
        base_ref="main",
    )


def hand_bumped(gh: FakeGitHub, age: timedelta, *, config: str = DIRECTORY_CONFIG) -> datetime:
    """dev and staging moved to 1.3.0 by a person ``age`` ago, no bot PR; prod on 1.2.0."""
    now = gh.now
    gh.now = now - timedelta(days=3)
    directory_repo(gh, config=config, tags=("1.3.0", "1.2.0", "1.2.0"))
    gh.now = now - age
    gh.push(ENV_REPO, "main", {STAGING_VALUES: values("1.3.0")})
    gh.now = now
    return now


async def review_prod_pr(gh: FakeGitHub) -> tuple[str | None, str, str]:
    """Open the prod promotion PR for 1.3.0 and review it: (conclusion, title, summary)."""
    (outcome,) = await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert (outcome.environment, outcome.action) == ("prod", "opened")
    await handle_pull_changed(changed(outcome.number or 0, "promotion/api/prod"), workspace(gh))
    ((_, run),) = gh.checks
    assert run.name == CHECK_NAME
    return run.conclusion, run.title, run.summary


@pytest.mark.parametrize(
    ("age", "conclusion", "reason"),
    [
        (
            timedelta(hours=1),
            "action_required",
            "1.3.0 has been there 1h; ready at 2026-03-03 09:00 UTC",
        ),
        (timedelta(hours=23, minutes=59), "action_required", "ready at 2026-03-02 10:01 UTC"),
        (timedelta(hours=24), "success", "1.3.0 has been there 24h"),
        (timedelta(days=2), "success", "1.3.0 has been there 2d"),
    ],
    ids=["1h-ago", "a-minute-short", "exactly-24h", "2d-ago"],
)
async def test_hand_bumped_upstream_soaks_from_its_last_commit(
    gh: FakeGitHub, age: timedelta, conclusion: str, reason: str
) -> None:
    hand_bumped(gh, age)
    result, title, summary = await review_prod_pr(gh)
    assert result == conclusion
    assert reason in summary
    if conclusion != "success":
        assert title.startswith("Waiting: prod requires 24h in staging")
    # One commits call, on staging's branch, for the file that sets the version.
    assert [c for c in gh.calls if c[0] == "git.last_commit_at"] == [
        ("git.last_commit_at", ENV_REPO, "main", STAGING_VALUES)
    ]


async def test_hand_bump_warns_in_the_review_comment_too(gh: FakeGitHub) -> None:
    hand_bumped(gh, timedelta(hours=1))
    await review_prod_pr(gh)
    (body,) = [c.body for r, n, c in gh.comments.values() if r == ENV_REPO]
    assert "ready at 2026-03-03 09:00 UTC" in body


async def test_version_in_several_files_soaks_from_the_directory(gh: FakeGitHub) -> None:
    config = DIRECTORY_CONFIG.replace('    files: ["values.yaml"]\n', "")
    hand_bumped(gh, timedelta(days=2), config=config)
    gh.push(ENV_REPO, "main", {"envs/staging/worker.yaml": values("1.3.0")})  # just now
    conclusion, _, summary = await review_prod_pr(gh)
    assert conclusion == "action_required" and "ready at 2026-03-03 10:00 UTC" in summary
    (call,) = [c for c in gh.calls if c[0] == "git.last_commit_at"]
    assert call == ("git.last_commit_at", ENV_REPO, "main", "envs/staging")


async def test_merged_bot_pr_wins_without_a_commits_call(gh: FakeGitHub) -> None:
    start = gh.now
    gh.now = start - timedelta(days=3)
    directory_repo(gh)
    await handle_image_pushed(pushed("1.3.0"), workspace(gh))  # dev PR 1
    await close(gh, workspace(gh), 1, merged=True)  # staging PR 2
    gh.now = start - timedelta(hours=25)
    await close(gh, workspace(gh), 2, merged=True)  # 1.3.0 reaches staging 25 h ago; prod PR 3
    # A person touches staging's file later: its date must not restart the soak.
    gh.now = start - timedelta(hours=2)
    gh.push(ENV_REPO, "main", {STAGING_VALUES: values("1.3.0", "replicas: 3\n")})
    gh.now = start
    await handle_pull_changed(changed(3, "promotion/api/prod"), workspace(gh))
    ((_, run),) = gh.checks
    assert run.conclusion == "success" and "1.3.0 has been there 25h" in run.summary
    assert gh.count("git.last_commit_at") == 0


class WithoutHistory(FakeGitHub):
    """A GitHub whose commit list finds nothing for the path."""

    async def last_commit_at(self, repo: str, branch: str, path: str) -> datetime | None:
        await super().last_commit_at(repo, branch, path)
        return None


async def test_unknown_arrival_keeps_the_gate_closed_for_a_full_soak() -> None:
    gh = WithoutHistory()
    hand_bumped(gh, timedelta(days=30))
    conclusion, title, summary = await review_prod_pr(gh)
    assert conclusion == "action_required" and title.startswith("Waiting:")
    assert "ready at 2026-03-03 10:00 UTC" in summary  # now + 24h
    assert gh.count("git.last_commit_at") == 1 and gh.count("pulls.merge") == 0


@pytest.mark.parametrize(
    ("path", "changed_by"),
    [
        (STAGING_VALUES, "bump"),
        ("envs/staging", "bump"),
        ("envs/dev", "seed"),
        (".", "bump"),
        ("envs/missing.yaml", None),
    ],
    ids=["file", "directory", "other-directory", "whole-branch", "unknown-path"],
)
async def test_fake_last_commit_at_answers_from_its_commits(
    gh: FakeGitHub, path: str, changed_by: str | None
) -> None:
    """The fake answers like the sandbox (tests/adapters/test_github_ports.py)."""
    now = hand_bumped(gh, timedelta(hours=5))
    dates = {"seed": now - timedelta(days=3), "bump": now - timedelta(hours=5)}
    found = await gh.last_commit_at(ENV_REPO, "main", path)
    assert found == (None if changed_by is None else dates[changed_by])
