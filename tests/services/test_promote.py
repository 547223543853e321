"""Closing promotion PRs: merges move the version on, declines are remembered."""

from __future__ import annotations

from bot.adapters.catalog import builtin_policies
from bot.core.inputs.events import ImagePushed, PullChanged, PullClosed
from bot.core.markup.metadata import extract
from bot.services.bump import handle_image_pushed
from bot.services.promote import DECLINED_LABEL, handle_pull_closed
from bot.services.review import CHECK_NAME, handle_pull_changed
from bot.services.workspace import ConfigCache
from tests.services.conftest import (
    DIRECTORY_CONFIG,
    ENV_REPO,
    close,
    directory_repo,
    values,
    workspace,
)
from tests.services.fakes import FakeGitHub


def pushed(tag: str) -> ImagePushed:
    return ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag=tag)


def version_of(gh: FakeGitHub, number: int) -> tuple[str, str]:
    meta = extract(gh.issues[(ENV_REPO, number)].body)
    assert meta is not None
    return meta.environment, meta.version


async def test_merge_opens_the_next_environment_then_prod_waits_on_its_gate(gh: FakeGitHub) -> None:
    directory_repo(gh)
    await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert await close(gh, workspace(gh), 1, merged=True) == ["staging:opened"]
    assert version_of(gh, 2) == ("staging", "1.3.0")
    assert gh.files_at(ENV_REPO, "promotion/api/staging")["envs/staging/values.yaml"] == values(
        "1.3.0"
    )
    assert await close(gh, workspace(gh), 2, merged=True) == ["prod:opened"]
    assert version_of(gh, 3) == ("prod", "1.3.0")
    # prod-safe soaks a day in staging: the gate waits and nothing is merged.
    pull = gh.pulls_of(ENV_REPO)[2]
    event = PullChanged(
        installation_id=1,
        repo=ENV_REPO,
        number=3,
        action="opened",
        base_ref="main",
        head_ref=pull.head_ref,
    )
    await handle_pull_changed(event, workspace(gh))
    ((repo, run),) = gh.checks
    assert (repo, run.name, run.conclusion) == (ENV_REPO, CHECK_NAME, "action_required")
    assert "soak" in run.summary and gh.count("pulls.merge") == 0


async def test_manual_policy_waits_for_a_command(gh: FakeGitHub) -> None:
    directory_repo(gh, config=DIRECTORY_CONFIG.replace("{use: prod-safe, auto: true}", "prod-safe"))
    await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    await close(gh, workspace(gh), 1, merged=True)
    assert await close(gh, workspace(gh), 2, merged=True) == ["prod:skipped"]
    assert len(gh.pulls_of(ENV_REPO)) == 2


async def test_redelivered_merge_opens_nothing_twice(gh: FakeGitHub) -> None:
    directory_repo(gh)
    await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert await close(gh, workspace(gh), 1, merged=True) == ["staging:opened"]
    pull = gh.pulls_of(ENV_REPO)[0]
    event = PullClosed(
        installation_id=1,
        repo=ENV_REPO,
        number=1,
        merged=True,
        head_ref=pull.head_ref,
        base_ref="main",
        body=pull.body,
    )
    (outcome,) = await handle_pull_closed(event, workspace(gh))
    assert outcome.action == "skipped" and len(gh.pulls_of(ENV_REPO)) == 2
    assert gh.count("git.commit_files") == 2


async def test_decline_is_remembered_until_a_newer_version(gh: FakeGitHub) -> None:
    directory_repo(gh)
    await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert await close(gh, workspace(gh), 1, merged=False) == []
    assert gh.issues[(ENV_REPO, 1)].labels == [DECLINED_LABEL]
    (again,) = await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert again.action == "skipped" and "declined" in again.reason
    (newer,) = await handle_image_pushed(pushed("1.3.1"), workspace(gh))
    assert (newer.action, newer.number) == ("opened", 2)
    body = gh.issues[(ENV_REPO, 2)].body
    meta = extract(body)
    assert meta is not None and (meta.version, meta.declined) == ("1.3.1", ("1.3.0",))
    # The declined list travels with the newest PR, so it survives older PRs scrolling away.
    (still,) = await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert still.action == "skipped"


async def test_a_persons_pr_on_a_promotion_branch_is_ignored(gh: FakeGitHub) -> None:
    directory_repo(gh)
    gh.push(ENV_REPO, "promotion/api/dev", {"envs/dev/values.yaml": values("9.9.9")})
    pull = gh.open_person_pr(ENV_REPO, head="promotion/api/dev", base="main")
    assert await close(gh, workspace(gh), pull.number, merged=True) == []
    assert gh.count("git.commit_files") == 0


async def test_merge_job_spends_one_call_on_the_pr_and_seven_on_opening(gh: FakeGitHub) -> None:
    directory_repo(gh)
    cache = ConfigCache(builtin_policies())
    await handle_image_pushed(pushed("1.3.0"), workspace(gh, cache))
    pull = gh.close(ENV_REPO, 1, merged=True)
    gh.rest, gh.calls = 0, []
    event = PullClosed(
        installation_id=1, repo=ENV_REPO, number=1, merged=True,
        head_ref=pull.head_ref, base_ref="main", body=pull.body,
    )  # fmt: skip
    (outcome,) = await handle_pull_closed(event, workspace(gh, cache))
    assert outcome.action == "opened"
    assert gh.rest <= 1 + 7, gh.calls
