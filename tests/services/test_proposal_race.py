"""A person merging or closing a promotion PR while a job plans never leaves a second PR.

The race a demo run found: a release job read dev's files (1.3.0) and the open dev PR (1.4.0),
a person merged that PR (its branch deleted), and the job, planning on the stale base, opened a
second dev PR for 1.4.0; a ``PullClosed`` job did the same to staging. ``FakeGitHub.on_call``
puts the person's merge (or close) between two of the job's reads, at each point where it can
land, and the merge's own ``PullClosed`` job runs after the racing job or alongside it. Whatever
the point and the order, each (app, environment) ends with at most one open PR, no two PRs
carry one version into one environment, every open PR is built on its base branch as it is now,
and the open PRs propose the versions listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import pytest

from bot.core.inputs.events import PullClosed, TagCreated
from bot.core.markup.metadata import extract
from bot.core.promotion.planner import Candidate, Skip
from bot.services.bump import handle_tag_created
from bot.services.ports import RetryLater
from bot.services.promote import handle_pull_closed
from bot.services.proposals import PLAN_ATTEMPTS, choose, propose, propose_choice
from bot.services.workspace import Workspace
from tests.services.conftest import ENV_REPO, close, directory_repo, values, workspace
from tests.services.fakes import FakeGitHub

Job = Callable[[Workspace], Awaitable[object]]


@dataclass(frozen=True)
class Move:
    """What the person does, and just before which call of the job (``nth`` of ``method``)."""

    number: int
    merged: bool
    method: str
    nth: int = 1
    delete_branch: bool = True


def tagged(tag: str) -> Job:
    event = TagCreated(installation_id=1, repo="acme/api", tag=tag)
    return lambda ws: handle_tag_created(event, ws)


def closed(gh: FakeGitHub, number: int) -> Job:
    pull = gh.issues[(ENV_REPO, number)].pull
    assert pull is not None and pull.state == "closed"
    event = PullClosed(
        installation_id=1,
        repo=ENV_REPO,
        number=number,
        merged=pull.merged,
        head_ref=pull.head_ref,
        base_ref=pull.base_ref,
        body=pull.body,
    )
    return lambda ws: handle_pull_closed(event, ws)


async def race(gh: FakeGitHub, job: Job, move: Move, *, alongside: bool) -> None:
    """Run ``job`` while the person makes ``move``; the move's ``PullClosed`` job runs when the
    move lands (``alongside``: interleaved with ``job`` at its next wait) or after ``job``."""
    theirs: list[asyncio.Future[object]] = []

    def person() -> None:
        gh.close(ENV_REPO, move.number, merged=move.merged, delete_branch=move.delete_branch)
        if alongside:
            theirs.append(asyncio.ensure_future(closed(gh, move.number)(workspace(gh))))

    gh.on_call(move.method, person, nth=move.nth)
    await job(workspace(gh))
    assert gh.issues[(ENV_REPO, move.number)].state == "closed", "the move never landed"
    if theirs:
        await theirs[0]
    else:
        await closed(gh, move.number)(workspace(gh))


def open_versions(gh: FakeGitHub) -> dict[str, str]:
    """Environment -> the version its open promotion PR proposes, after checking the rules."""
    found: dict[str, str] = {}
    carried: set[tuple[str, str]] = set()
    main = gh.repos[ENV_REPO].branches["main"]
    for pull in gh.pulls_of(ENV_REPO):
        meta = extract(gh.issues[(ENV_REPO, pull.number)].body)
        assert meta is not None
        if pull.state == "open" or pull.merged:
            lane = (meta.environment, meta.version)
            assert lane not in carried, f"a second PR carries {lane}: #{pull.number}"
            carried.add(lane)
        if pull.state == "open":
            assert meta.environment not in found, f"a second open PR for {meta.environment}"
            found[meta.environment] = meta.version
            head = gh.repos[ENV_REPO].branches[pull.head_ref]
            assert gh.commits[head][1] == main, f"#{pull.number} is built on a stale base"
    return found


def version_of(gh: FakeGitHub, number: int) -> str:
    meta = extract(gh.issues[(ENV_REPO, number)].body)
    assert meta is not None
    return meta.version


async def dev_pr(gh: FakeGitHub, tag: str) -> None:
    """dev's promotion PR proposes ``tag`` (opened or updated by its git tag)."""
    await tagged(f"v{tag}")(workspace(gh))


@pytest.mark.parametrize("alongside", [False, True], ids=["after", "alongside"])
@pytest.mark.parametrize(
    ("tag", "move", "expected"),
    [
        # The demo's race: the release of the version dev's PR proposes, that PR merged after
        # the job read dev's files and before it read the PR (or read the heads).
        ("1.4.0", Move(1, True, "git.tree"), {"staging": "1.4.0"}),
        ("1.4.0", Move(1, True, "pulls.history"), {"staging": "1.4.0"}),
        ("1.4.0", Move(1, True, "pulls.history", delete_branch=False), {"staging": "1.4.0"}),
        # A newer release: the job plans to update #1, which is merged after it was read
        # (before the heads are read again, or between that and reading the PR).
        ("1.4.1", Move(1, True, "pulls.history"), {"dev": "1.4.1", "staging": "1.4.0"}),
        ("1.4.1", Move(1, True, "git.branch_heads", nth=2), {"dev": "1.4.1", "staging": "1.4.0"}),
        ("1.4.1", Move(1, True, "pulls.get"), {"dev": "1.4.1", "staging": "1.4.0"}),
        # Declined meanwhile: closing moves no branch, so only reading the PR again shows it;
        # the newer version gets a PR of its own instead of landing in the declined one.
        ("1.4.1", Move(1, False, "pulls.get", delete_branch=False), {"dev": "1.4.1"}),
    ],
)
async def test_a_merge_during_a_release_job_leaves_one_pr_per_environment(
    gh: FakeGitHub, tag: str, move: Move, expected: dict[str, str], alongside: bool
) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.3.0"))
    await dev_pr(gh, "1.4.0")
    await race(gh, tagged(f"v{tag}"), move, alongside=alongside)
    assert open_versions(gh) == expected
    assert version_of(gh, 1) == "1.4.0"  # the closed PR's record is left as the person left it


@pytest.mark.parametrize("alongside", [False, True], ids=["after", "alongside"])
@pytest.mark.parametrize(
    "method",
    ["pulls.history", "git.branch_heads", "pulls.get"],
)
async def test_a_merge_of_staging_during_a_pull_closed_job_leaves_one_pr_per_environment(
    gh: FakeGitHub, method: str, alongside: bool
) -> None:
    """dev's merge of 1.4.0 proposes staging (#4, in place of #2's 1.3.0) while a person
    merges #2: the job plans to update #2 and must open a PR of its own on the new base."""
    directory_repo(gh, tags=("1.2.0", "1.2.0", "1.2.0"))
    await dev_pr(gh, "1.3.0")
    assert await close(gh, workspace(gh), 1, merged=True) == ["staging:opened"]  # #2
    await dev_pr(gh, "1.4.0")  # #3
    gh.close(ENV_REPO, 3, merged=True)
    # The job's own reads come first: the heads and #3 itself; then the check reads them again.
    nth = 1 if method == "pulls.history" else 2
    move = Move(2, True, method, nth=nth)
    await race(gh, closed(gh, 3), move, alongside=alongside)
    assert open_versions(gh) == {"staging": "1.4.0", "prod": "1.3.0"}


@pytest.mark.parametrize("alongside", [False, True], ids=["after", "alongside"])
async def test_a_redelivered_merge_during_a_staging_merge_opens_no_second_staging_pr(
    gh: FakeGitHub, alongside: bool
) -> None:
    """The demo's staging race: the merge of dev's 1.4.0 is delivered again while a person
    merges the staging PR it opened; 1.4.0 goes on to prod once, not to staging twice."""
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.3.0"))
    await dev_pr(gh, "1.4.0")
    assert await close(gh, workspace(gh), 1, merged=True) == ["staging:opened"]  # #2
    await race(gh, closed(gh, 1), Move(2, True, "pulls.history"), alongside=alongside)
    assert open_versions(gh) == {"prod": "1.4.0"}


async def test_other_branches_moving_do_not_make_the_job_plan_again(gh: FakeGitHub) -> None:
    """Only the base branch and the promotion branch count: fifty jobs opening fifty apps' PRs
    in one repository would otherwise plan each other's branches away."""
    directory_repo(gh)
    gh.on_call("git.tree", lambda: gh.branch(ENV_REPO, "feature", {"README.md": "# moved\n"}))
    (outcome,) = await handle_tag_created(
        TagCreated(installation_id=1, repo="acme/api", tag="v1.3.0"), workspace(gh)
    )
    assert (outcome.environment, outcome.action) == ("dev", "opened")
    assert gh.count("git.branch_heads") == 2  # the job's read, then the check before writing


async def test_github_moving_under_every_plan_asks_to_run_again_later(gh: FakeGitHub) -> None:
    directory_repo(gh)
    ws = workspace(gh)
    loaded = (await ws.configs_of_installation())[0]
    for nth in range(1, PLAN_ATTEMPTS + 1):  # a person pushes just before each check
        push = partial(gh.push, ENV_REPO, "main", {"notes.md": f"push {nth}\n"})
        gh.on_call("git.branch_heads", push, nth=nth)
    with pytest.raises(RetryLater) as raised:
        await propose(ws, loaded, "api", Candidate("1.3.0"))
    assert raised.value.after == timedelta(seconds=5)
    assert gh.pulls_of(ENV_REPO) == [] and gh.count("git.branch_heads") == 1 + PLAN_ATTEMPTS


async def test_a_command_plans_again_for_its_own_environment_only(gh: FakeGitHub) -> None:
    """``propose_choice`` serves commands, which checked who may promote to the environment
    chosen: when the merge moves the version on, it stops instead of going elsewhere."""
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.3.0"))
    await dev_pr(gh, "1.4.0")
    ws = workspace(gh)
    loaded = (await ws.configs_of_installation())[0]
    candidate = Candidate("1.4.0", source="/promote by @alice")
    choice = await choose(ws, loaded, "api", candidate)
    assert not isinstance(choice, Skip) and choice.target.environment == "dev"
    gh.on_call("pulls.history", lambda: gh.close(ENV_REPO, 1, merged=True))
    outcome = await propose_choice(ws, loaded, choice, candidate)
    assert (outcome.action, outcome.reason) == (
        "skipped",
        "dev changed while proposing 1.4.0; it would now go to staging",
    )
    assert [p.number for p in gh.pulls_of(ENV_REPO)] == [1]
    assert gh.files_at(ENV_REPO, "main")["envs/dev/values.yaml"] == values("1.4.0")
