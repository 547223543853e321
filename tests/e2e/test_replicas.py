"""Several processes on one PostgreSQL queue, as docs/deployment.md runs them: ``serve`` takes
the webhooks and works, a ``worker`` works beside it. A burst across apps opens every PR once;
both processes run jobs; the write pace is shared, so together they trip no secondary limit
(GitHub's figures, time compressed as in test_burst.py). Crashes on PostgreSQL are in
tests/reliability.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.harness import Stack
from bot.demo.runners import BotProcess
from tests.e2e.burst import run_burst
from tests.e2e.harness import rate_limits_tripped, start_processes
from tests.postgres import Server

APPS = 20
SCALE = 0.05  # a minute of 3 s, an hour of 3 min, for the sandbox and the bots alike
COMPLETED = re.compile(r'"msg": "completed job kind=(\w+)')


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, postgres: Server
) -> Iterator[tuple[Stack, BotProcess]]:
    workdir: Path = tmp_path_factory.mktemp("replicas")
    with postgres.database(migrated=True) as url:
        options = {"database_url": url, "write_window_scale": str(SCALE)}
        stack = start_processes(workdir, options=options, limits={"window_scale": SCALE})
        assert isinstance(stack.bot, BotProcess)
        worker = stack.bot.replica("worker")
        try:
            worker.start()
            yield stack, worker
        finally:
            worker.stop()
            stack.stop()


def completed(bot: BotProcess) -> Counter[str]:
    text = bot.log.read_text(errors="replace") if bot.log.exists() else ""
    return Counter(COMPLETED.findall(text))


def test_serve_and_a_worker_share_the_queue_and_the_write_pace(
    replicas: tuple[Stack, BotProcess],
) -> None:
    stack, worker = replicas
    burst = run_burst(stack, "replicas", APPS, deadline=180.0)
    assert burst.pulls == APPS
    assert burst.calls["POST /repos/{owner}/{repo}/pulls"] == APPS
    assert (burst.limit_responses, rate_limits_tripped(stack)) == (0, {})
    assert isinstance(stack.bot, BotProcess)
    jobs = {"serve": completed(stack.bot), "worker": completed(worker)}
    assert all(done["event"] > 0 for done in jobs.values()), jobs
