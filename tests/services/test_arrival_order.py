"""The order in which pushes arrive never decides the version (issue 11, defect 1).

Pushes go through the real SQLite queue as the intake sends them (recorded, deduplicated,
coalesced while their job waits) and run through the real router over a fake GitHub. Whatever
the order, the duplicates and when the worker happens to run, the dev PR ends at the highest
version pushed that dev's policy allows.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.bootstrap import build_router
from bot.core.inputs.events import ImagePushed
from bot.core.markup.metadata import extract
from bot.entrypoints.routing import JobProcessor, event_job
from tests.services.conftest import ENV_REPO, directory_repo
from tests.services.fakes import FakeGitHub

# dev runs 1.2.0 under the default policy (any newer release, no pre-releases).
TAGS = ("1.2.9", "1.3.0", "1.9.0", "1.10.0", "2.0.0-rc.1", "1.1.0", "1.2.0")
HIGHEST_ALLOWED = {"1.2.9": 1, "1.3.0": 2, "1.9.0": 3, "1.10.0": 4}


def push(tag: str) -> ImagePushed:
    digest = "sha256:" + f"{TAGS.index(tag):x}" * 64
    return ImagePushed(
        installation_id=1,
        registry="ghcr.io",
        repository="acme/api",
        tag=tag,
        digest=digest,
        delivery_id=f"push-{tag}",
    )


async def play(workdir: Path, arrivals: Sequence[str], runs_after: frozenset[int]) -> str | None:
    """Enqueue each pushed tag as the intake does; after the arrivals in ``runs_after`` the
    worker runs one job; then it runs what is left. The version the dev PR proposes."""
    gh = FakeGitHub()
    directory_repo(gh)
    queue = SqliteJobQueue(workdir / "queue.sqlite3")
    router, _ = build_router(lambda _: gh.ports(), lambda: gh.now, queue)
    processor = JobProcessor(queue, router)

    async def run_one() -> bool:
        job = await queue.lease()
        if job is None:
            return False
        await processor(job)
        await queue.complete(job)
        return True

    try:
        for index, tag in enumerate(arrivals):
            await queue.enqueue(event_job(push(tag)))
            if index in runs_after:
                await run_one()
        while await run_one():
            pass
    finally:
        queue.close()
    pulls = [p for p in gh.pulls_of(ENV_REPO) if p.head_ref == "promotion/api/dev"]
    assert len(pulls) <= 1, pulls
    meta = extract(gh.issues[(ENV_REPO, pulls[0].number)].body) if pulls else None
    return meta.version if meta else None


def expected(arrivals: Sequence[str]) -> str | None:
    allowed = [tag for tag in arrivals if tag in HIGHEST_ALLOWED]
    return max(allowed, key=HIGHEST_ALLOWED.__getitem__) if allowed else None


async def test_a_lower_push_arriving_last_does_not_win_over_a_higher_one(tmp_path: Path) -> None:
    """1.3.0 runs at once; 1.9.0 and 1.2.9 arrive while it runs and coalesce into one job
    that carries 1.2.9's payload. Before, that job offered only 1.2.9 and the PR stayed at
    1.3.0 until the hourly reconcile."""
    assert await play(tmp_path, ["1.3.0", "1.9.0", "1.2.9"], frozenset({0})) == "1.9.0"


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.lists(st.sampled_from(TAGS), min_size=1, max_size=8),
    runs_after=st.frozensets(st.integers(min_value=0, max_value=7)),
)
def test_any_order_and_duplication_of_pushes_ends_at_the_highest_allowed(
    arrivals: list[str], runs_after: frozenset[int]
) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        got = asyncio.run(play(Path(workdir), arrivals, runs_after))
    assert got == expected(arrivals)
