"""Jobs per second with 1, 2 and 4 worker processes on one PostgreSQL queue, against the
sandbox, and the same load on SQLite (one process, the only way it runs).

Each run starts the sandbox and ``promotion-bot serve`` as processes (``tests.e2e.harness``),
plus ``worker`` processes on PostgreSQL to make 2 or 4; the load is the burst of
``tests.e2e.burst`` in ``ORGS`` organisations at once, each its own installation with an
environment repository of ``APPS // ORGS`` apps (the bot works one job that may write a
promotion branch at a time per installation: ADR 0002, "Serial keys"), an image published for
each app at once, until every dev PR has its labels, check run and review comment and the queue
is empty.
GitHub's secondary limits are off in the sandbox and the bot's write pace is lifted, so the
figure is the queue's and the workers' (GitHub would pace 80 writes a minute per installation
whatever the number of workers: ``bench_burst``). Jobs: every job the processes completed
(deliveries translated, promotions, reviews), from their logs. Ratios to SQLite, from one run.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.demo.runners import BotProcess
from tests.e2e.burst import run_burst
from tests.e2e.harness import start_processes
from tests.postgres import server

HEADING = "## Workers: jobs per second on each engine"
APPS = 60
ORGS = 4  # installations: what the jobs of one can run beside the others'
PROCESSES = (1, 2, 4)
UNPACED = {"writes_per_minute": "1000000", "writes_per_hour": "1000000", "workers": "4"}
COMPLETED = re.compile(r'"msg": "completed job kind=')


@dataclass(frozen=True)
class Run:
    engine: str
    processes: int
    jobs: int
    seconds: float
    pulls: int

    @property
    def per_second(self) -> float:
        return self.jobs / self.seconds


def completed(bots: list[BotProcess]) -> int:
    return sum(len(COMPLETED.findall(bot.log.read_text(errors="replace"))) for bot in bots)


def run(engine: str, processes: int, database_url: str | None) -> Run:
    options = dict(UNPACED) | ({"database_url": database_url} if database_url else {})
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        stack = start_processes(Path(tmp), options=options, limits={"enabled": False})
        assert isinstance(stack.bot, BotProcess)
        bots = [stack.bot]
        try:
            for _ in range(processes - 1):
                bots.append(stack.bot.replica("worker"))
                bots[-1].start()
            started = time.perf_counter()
            with ThreadPoolExecutor(ORGS) as pool:
                bursts = list(
                    pool.map(
                        lambda k: run_burst(stack, f"bench{k}", APPS // ORGS, deadline=900.0),
                        range(ORGS),
                    )
                )
            seconds = time.perf_counter() - started
            return Run(engine, processes, completed(bots), seconds, sum(b.pulls for b in bursts))
        finally:
            for bot in bots[1:]:
                bot.stop()
            stack.stop()


def report(runs: list[Run]) -> str:
    base = next(r for r in runs if r.engine == "SQLite").per_second
    rows = [
        f"| {r.engine} | {r.processes} | {r.jobs} | {r.seconds:.1f} s | {r.per_second:.1f} | "
        f"{r.per_second / base:.2f}x | {r.pulls} |"
        for r in runs
    ]
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench workers` (`bench/bench_workers.py`), {os.cpu_count()} CPUs (load "
            f"average {os.getloadavg()[0]:.1f} at the end), loopback, the sandbox and every bot "
            f"as processes. {ORGS} organisations at once, each its own installation with an "
            f"environment repository of {APPS // ORGS} apps (one job that may write a promotion "
            "branch runs at a time per installation), one image published for each app at "
            "once; a run ends when every dev PR has its labels, check run and "
            "review comment and the queue is empty. The sandbox's secondary limits are off and "
            "the bot's write pace lifted, so this measures the queue and the workers, not "
            "GitHub's pace (`bench_burst`). Processes: `serve` alone, then with `worker`s "
            "beside it on the same PostgreSQL database; each works 4 jobs at a time. Jobs: "
            "every job completed (deliveries translated, promotions, reviews). Ratio: to "
            "SQLite's jobs per second in the same run.",
            "",
            "| engine | processes | jobs | wall time | jobs/s | ratio | PRs |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def main() -> None:
    runs = [run("SQLite", 1, None)]
    with server() as postgres:
        for processes in PROCESSES:
            with postgres.database(migrated=True) as url:
                runs.append(run("PostgreSQL", processes, url))
    print(report(runs))


if __name__ == "__main__":
    main()
