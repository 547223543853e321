"""A burst of 50 image pushes against GitHub's real secondary rate limits.

The sandbox and the bot run as the end-to-end tests run them (``promotion-bot sandbox`` and
``promotion-bot serve`` processes, ``tests.e2e.harness``), the sandbox with GitHub's secondary
limits at GitHub's figures (80 content-generating requests a minute and 500 an hour per
installation, 900 points a minute, 100 concurrent) and the bot pacing its writes at the same
figures; nothing is scaled. One environment repository holds 50 apps; an image is published for
each at once (``tests.e2e.burst``, the scene of ``tests/e2e/test_burst.py``, which compresses
time 20x). It prints the "Burst" section of docs/benchmarks.md: calls per PR, reads and writes,
limit responses (must be 0) and the wall time against the least the write pace allows.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from tests.e2e.burst import Burst, run_burst
from tests.e2e.harness import start_processes

HEADING = "## Burst: 50 image pushes under GitHub's secondary limits"
APPS = 50
WRITES_PER_MINUTE = 80
DEADLINE_S = 1200.0


def run(workdir: Path) -> Burst:
    stack = start_processes(workdir)
    try:
        return run_burst(stack, "burst", APPS, deadline=DEADLINE_S)
    finally:
        stack.stop()


def least_seconds(writes: int) -> float:
    """The least time ``writes`` take at 80 a minute: every full minute's budget but the last."""
    return 60.0 * (math.ceil(writes / WRITES_PER_MINUTE) - 1)


def report(burst: Burst) -> str:
    per_pr = burst.pulls or 1
    rows = [
        f"| `{route}` | {n} | {n / per_pr:.2f} |"
        for route, n in sorted(burst.calls.items(), key=lambda item: (-item[1], item[0]))
    ]
    least = least_seconds(burst.writes)
    verdict = "met" if burst.pulls == APPS and burst.limit_responses == 0 else "NOT met"
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench burst` (`bench/bench_burst.py`), {os.cpu_count()} CPUs (load "
            f"average {os.getloadavg()[0]:.1f} at the end), loopback, the sandbox and the bot "
            "as processes. The sandbox answers with GitHub's secondary limits at GitHub's "
            "figures (80 content-generating requests a minute and 500 an hour per installation, "
            "900 points a minute, 100 concurrent) and the bot paces its writes at 80 a minute "
            f"and 500 an hour; nothing is scaled. One environment repository with {APPS} apps, "
            "one image published for each at once; the run ends when every dev PR is open and "
            "the bot's queue is empty. Counted: the installation's calls in the sandbox's "
            "request log.",
            "",
            "| | total | per PR |",
            "|---|---:|---:|",
            f"| PRs opened | {burst.pulls} | |",
            f"| API calls | {burst.reads + burst.writes} | "
            f"{(burst.reads + burst.writes) / per_pr:.1f} |",
            f"| reads (GET) | {burst.reads} | {burst.reads / per_pr:.1f} |",
            f"| writes (POST, PATCH, PUT, DELETE) | {burst.writes} | {burst.writes / per_pr:.2f} |",
            f"| limit responses | {burst.limit_responses} | |",
            f"| wall time | {burst.seconds:.0f} s | {burst.seconds / per_pr:.1f} s |",
            "",
            f"The least time {burst.writes} writes take at {WRITES_PER_MINUTE} a minute: "
            f"{least:.0f} s; the run took **{burst.seconds / least:.2f}x** that. "
            f"{APPS} PRs with zero limit responses: **{verdict}**.",
            "",
            "| call | count | per PR |",
            "|---|---:|---:|",
            *rows,
            "",
        ]
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        burst = run(Path(tmp))
    print(report(burst))


if __name__ == "__main__":
    main()
