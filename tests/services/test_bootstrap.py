"""The routing table joins every handled event to its use case through one factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.versions_memory import VersionsInMemory
from bot.bootstrap import build_router, prune_every, received_by
from bot.core.inputs.events import ImagePushed, PassDue
from bot.entrypoints.routing import EventContext
from bot.services.github_ports import GitHubError, GitHubPorts, NotFound
from bot.services.ports import Delivery, JobRejected
from bot.services.scheduler import FreshInstallations
from bot.services.workspace import Workspace
from tests.adapters.support import FakeClock
from tests.services.conftest import ENV_REPO, directory_repo
from tests.services.fakes import FakeGitHub


async def test_router_runs_use_cases_with_the_installations_ports(gh: FakeGitHub) -> None:
    directory_repo(gh)
    asked: list[int | None] = []

    def ports_for(installation_id: int | None) -> GitHubPorts:
        asked.append(installation_id)
        return gh.ports()

    router, services = build_router(ports_for, lambda: gh.now, VersionsInMemory())
    event = ImagePushed(installation_id=7, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    assert await router.dispatch(event, EventContext(job_id=1, attempt=1, merged=1))
    assert asked == [7] and len(gh.pulls_of(ENV_REPO)) == 1
    outcomes = await services.reconcile(7)
    assert all(o.action == "skipped" for o in outcomes)


async def test_a_pass_due_reconciles_its_installation_or_sweeps(gh: FakeGitHub) -> None:
    directory_repo(gh)
    gh.tags["acme/api"] = ("v1.4.0",)  # missed by the webhooks: the pass proposes it
    asked: list[int | None] = []
    swept: list[bool] = []

    def ports_for(installation_id: int | None) -> GitHubPorts:
        asked.append(installation_id)
        return gh.ports()

    async def sweep() -> None:
        swept.append(True)

    async def installations() -> tuple[int, ...]:
        return (7, 8)

    router, services = build_router(ports_for, lambda: gh.now, VersionsInMemory(), installations)
    services.sweep = sweep
    context = EventContext(job_id=1, attempt=1, merged=1)
    assert await router.dispatch(PassDue(task="reconcile", slot=gh.now, installation_id=7), context)
    assert asked == [7] and len(gh.pulls_of(ENV_REPO)) == 1
    assert await router.dispatch(PassDue(task="redeliver", slot=gh.now), context)
    assert swept == [True] and asked == [7]  # the sweep is the App's: no installation's ports


async def test_a_reconcile_pass_that_cannot_succeed_is_no_dead_letter(gh: FakeGitHub) -> None:
    def ports_for(installation_id: int | None) -> GitHubPorts:
        raise NotFound("repository not reachable by the installation repo=nowhere/env")

    async def installations() -> tuple[int, ...]:
        return (7,)

    router, _ = build_router(ports_for, lambda: gh.now, VersionsInMemory(), installations)
    due = PassDue(task="reconcile", slot=gh.now, installation_id=7)
    assert await router.dispatch(due, EventContext(job_id=1, attempt=1, merged=1))
    pushed = ImagePushed(installation_id=7, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    with pytest.raises(JobRejected):  # an event's job is dead-lettered as before
        await router.dispatch(pushed, EventContext(job_id=2, attempt=1, merged=1))


async def test_an_event_without_installation_runs_for_every_installation(gh: FakeGitHub) -> None:
    directory_repo(gh)
    asked: list[int | None] = []

    def ports_for(installation_id: int | None) -> GitHubPorts:
        asked.append(installation_id)
        if installation_id == 2:
            raise RuntimeError("installation 2 is suspended")
        return gh.ports()

    async def installations() -> tuple[int, ...]:
        return (1, 2, 3)

    router, _ = build_router(ports_for, lambda: gh.now, VersionsInMemory(), installations)
    pushed = ImagePushed(registry="ghcr.io", repository="acme/api", tag="1.3.0")
    with pytest.raises(RuntimeError, match="installation 2 is suspended"):
        await router.dispatch(pushed, EventContext(job_id=1, attempt=1, merged=1))
    assert asked == [1, 2, 3]  # the failing one stopped no other
    assert len(gh.pulls_of(ENV_REPO)) == 1  # 3 sees the PR 1 opened: proposed once


async def test_a_push_right_after_an_installation_reaches_it(gh: FakeGitHub) -> None:
    """A registry push names no installation: it runs for the installations as they are now,
    including one made a moment ago (its ``installation`` event may not even be handled yet)."""
    directory_repo(gh)
    installed = [1]
    asked: list[int | None] = []

    def ports_for(installation_id: int | None) -> GitHubPorts:
        asked.append(installation_id)
        return gh.ports()

    async def fetch() -> tuple[int, ...]:
        return tuple(installed)

    router, _ = build_router(
        ports_for, lambda: gh.now, VersionsInMemory(), FreshInstallations(fetch)
    )
    context = EventContext(job_id=1, attempt=1, merged=1)
    await router.dispatch(ImagePushed(registry="ghcr.io", repository="acme/x", tag="1"), context)
    installed.append(2)  # the app is installed on another account
    await router.dispatch(ImagePushed(registry="ghcr.io", repository="acme/x", tag="2"), context)
    assert asked == [1, 1, 2]


def failing_ports(error: Exception) -> Callable[[int | None], GitHubPorts]:
    def ports_for(installation_id: int | None) -> GitHubPorts:
        raise error

    return ports_for


async def installed_one_and_two() -> tuple[int, ...]:
    return (1, 2)


PUSH = ImagePushed(installation_id=9, registry="ghcr.io", repository="acme/api", tag="1.3.0")


@pytest.mark.parametrize(
    ("installation_id", "error", "rejected"),
    [
        (9, GitHubError("creating a token failed: status=404"), "installation_id=9, which is not"),
        (1, NotFound("reading branch heads repo=acme/gone failed: status=404"), "answered 404"),
        (1, GitHubError("status=502"), None),  # GitHub may answer next time: retried
        (1, RuntimeError("boom"), None),
    ],
)
async def test_an_error_no_retry_can_mend_rejects_the_job_at_once(
    gh: FakeGitHub, installation_id: int, error: Exception, rejected: str | None
) -> None:
    router, _ = build_router(
        failing_ports(error), lambda: gh.now, VersionsInMemory(), installed_one_and_two
    )
    event = PUSH.model_copy(update={"installation_id": installation_id})
    context = EventContext(job_id=1, attempt=1, merged=1)
    if rejected is None:
        with pytest.raises(type(error)):
            await router.dispatch(event, context)
        return
    with pytest.raises(JobRejected, match=rejected) as caught:
        await router.dispatch(event, context)
    assert caught.value.__cause__ is error


async def test_a_404_runs_once_more_with_the_repository_list_read_again(gh: FakeGitHub) -> None:
    """The repository list is cached per installation; a repository added a moment ago (its
    ``installation_repositories`` event not handled yet, or handled by another replica) is
    looked for again before the job is given up."""
    forgotten: list[int] = []

    async def use_case(event: ImagePushed, ws: Workspace) -> None:
        forgotten.append(gh.count("installation.forget_repositories"))
        if len(forgotten) == 1:
            raise NotFound("repository not reachable by the installation repo=acme/new")

    _, services = build_router(lambda _: gh.ports(), lambda: gh.now, VersionsInMemory())
    await services.route(use_case)(PUSH, EventContext(job_id=1, attempt=1, merged=1))
    assert forgotten == [0, 1]


async def test_a_long_running_bot_prunes_old_work_while_it_runs(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = SqliteJobQueue(tmp_path / "queue.sqlite3", clock=clock)
    old = Delivery("old", "github", "ping", b"{}", clock(), {})
    assert await queue.accept_delivery(old, None)
    clock.advance(days=30)
    stop = asyncio.Event()
    loop = asyncio.create_task(prune_every(queue, stop, timedelta(milliseconds=10)))
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if await queue.get_delivery("old") is None:
                break
        assert await queue.get_delivery("old") is None
    finally:
        stop.set()
        await loop
        queue.close()


async def test_the_reconcile_pass_refreshes_the_drift_reports_that_are_due(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    _, services = build_router(lambda _: gh.ports(), lambda: gh.now, VersionsInMemory())
    services.drift_schedule = "* * * * *"  # a slot every minute: due at every pass
    await services.reconcile(1)
    (report,) = [i for i in gh.issues.values() if "promotion-drift" in i.labels]
    # The pass first proposed 1.3.0 to prod (#1); the report, refreshed after, says so.
    assert "proposed" in report.body and "/pull/1)" in report.body
    services.drift_schedule = "0 0 1 1 *"  # not due within the last hour: left alone
    gh.push(ENV_REPO, "main", {"envs/prod/extra.yaml": "a: 1\n"})
    await services.reconcile(1)
    assert "extra.yaml" not in report.body


async def test_the_redelivery_sweep_asks_the_queue_which_guids_it_holds(tmp_path: Path) -> None:
    queue = SqliteJobQueue(tmp_path / "queue.sqlite3")
    try:
        received = received_by(queue)
        assert not await received("guid-1")
        await queue.accept_delivery(
            Delivery("guid-1", "github", "ping", b"{}", FakeClock()(), {}), None
        )
        assert await received("guid-1")
    finally:
        queue.close()
