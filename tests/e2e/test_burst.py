"""A burst: images pushed for 50 apps of one environment repository at once open exactly 50 PRs,
and the bot never trips one of GitHub's secondary rate limits doing so.

GitHub's figures (docs "Rate limits for the REST API", "About secondary rate limits"): 80
content-generating requests a minute and 500 an hour per installation, 900 points a minute,
100 concurrent requests. At those figures this burst needs several minutes, too long for CI, so
time is compressed on BOTH sides by the same factor ``SCALE``: the sandbox's minute and hour
(``window_scale``) and the bot's write pace (``PROMOTION_BOT_WRITE_WINDOW_SCALE``) are
``SCALE`` times GitHub's; the counts (80, 500, 900, 100) are GitHub's. ``bench/bench_burst.py``
runs the same burst at GitHub's real figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.harness import Stack
from tests.e2e.burst import run_burst
from tests.e2e.harness import start_processes

APPS = 50
SCALE = 0.05  # a minute of 3 s, an hour of 3 min, for the sandbox and the bot alike
# Each PR's writes: its tree, commit, ref and pull, then its labels, check run and comment.
ONCE_PER_PR = (
    "POST /repos/{owner}/{repo}/git/refs",
    "POST /repos/{owner}/{repo}/pulls",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    "POST /repos/{owner}/{repo}/check-runs",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
)
# At least 7 writes per PR; a job the pace defers after its tree (or commit) runs again and
# writes a new one, so a few more trees and commits than PRs (docs/benchmarks.md "Burst").
# Measured here: 7.0-7.3 writes and 17-19 calls per PR.
MAX_WRITES_PER_PR = 9
MAX_CALLS_PER_PR = 25


@pytest.fixture(scope="module")
def burst_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("burst")
    running = start_processes(
        workdir, options={"write_window_scale": str(SCALE)}, limits={"window_scale": SCALE}
    )
    yield running
    running.stop()


def test_a_burst_of_50_pushes_opens_50_prs_without_a_limit_response(burst_stack: Stack) -> None:
    burst = run_burst(burst_stack, "burst", APPS, deadline=120.0)
    assert burst.pulls == APPS
    assert (burst.limit_responses, burst.by_limit) == (0, {})
    assert {route: burst.calls[route] for route in ONCE_PER_PR} == dict.fromkeys(ONCE_PER_PR, APPS)
    assert APPS <= burst.calls["POST /repos/{owner}/{repo}/git/trees"] <= 2 * APPS
    assert 7 * APPS <= burst.writes <= MAX_WRITES_PER_PR * APPS
    assert burst.reads + burst.writes <= MAX_CALLS_PER_PR * APPS
