"""From an image-push delivery to the promotion PR opened, against the live sandbox.

The sandbox and the real bot (web app, SQLite queue, worker, use cases, githubkit adapter) serve
on loopback (``bot.demo.harness``). A run publishes a new container version in the sandbox, which
sends the signed ``registry_package`` webhook to the bot, and ends when the dev PR appears in the
sandbox (polled every few milliseconds). Warm runs share an installation whose token and config
the bot already holds, each for a fresh app (so every run opens a PR); cold runs each get a new
installation (first token, first config read). It prints the "Image push to PR" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot.demo.harness import GitHubView, Stack, seed_people, start_stack
from github_sandbox import admin_client as calls

HEADING = "## Image push to PR"
WARM_RUNS = 12
COLD_RUNS = 5
POLL_S = 0.005
DEADLINE_S = 30.0
GOAL_S = 1.0


def config(org: str, apps: int) -> str:
    lines = ["version: 1", "environments:"]
    lines += [f"  - name: {env}\n    path: envs/{env}" for env in ("dev", "staging")]
    lines.append("apps:")
    for i in range(apps):
        lines += [f"  app{i}:", f"    image: ghcr.io/{org}/app{i}", f'    files: ["app{i}.yaml"]']
    return "\n".join(lines) + "\n"


def repo_files(org: str, apps: int) -> dict[str, str]:
    files = {".github/promotion.yml": config(org, apps)}
    for env in ("dev", "staging"):
        for i in range(apps):
            image = f"ghcr.io/{org}/app{i}"
            files[f"envs/{env}/app{i}.yaml"] = f"image:\n  repository: {image}\n  tag: 1.0.0\n"
    return files


def organisation(stack: Stack, org: str, apps: int) -> None:
    stack.admin.run(calls.create_repo(org, "env", files=repo_files(org, apps)))
    for i in range(apps):
        stack.admin.run(calls.create_repo(org, f"app{i}", files={"README.md": "app\n"}))
    stack.install(org)


def time_to_pr(stack: Stack, view: GitHubView, org: str, app: int) -> float:
    """Seconds from publishing ``app``'s image to its dev PR being visible."""
    head = f"promotion/app{app}/dev"
    started = time.perf_counter()
    stack.admin.run(calls.publish_package(org, f"app{app}", repository=f"app{app}", tag="1.1.0"))
    while time.perf_counter() - started < DEADLINE_S:
        if any(p["head"]["ref"] == head for p in view.pulls(f"{org}/env", "open")):
            return time.perf_counter() - started
        time.sleep(POLL_S)
    raise RuntimeError(f"no PR within {DEADLINE_S}s org={org} app=app{app}")


def run(workdir: Path) -> tuple[list[float], list[float]]:
    stack = start_stack(workdir, org="bench")
    try:
        reader = seed_people(stack.admin, {"bench-reader": "Bench Reader"})["bench-reader"]
        view = stack.view(reader.token)
        organisation(stack, "warm", WARM_RUNS + 1)
        time_to_pr(stack, view, "warm", 0)  # warms the token, the config and the caches
        warm = [time_to_pr(stack, view, "warm", i) for i in range(1, WARM_RUNS + 1)]
        cold = []
        for n in range(COLD_RUNS):
            organisation(stack, f"cold{n}", 1)
            cold.append(time_to_pr(stack, view, f"cold{n}", 0))
        view.close()
    finally:
        stack.stop()
    return warm, cold


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(warm: Sequence[float], cold: Sequence[float]) -> str:
    def row(name: str, values: Sequence[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"| {name} | {len(ms)} | {min(ms):.0f} | {statistics.median(ms):.0f} | "
            f"{p95(ms):.0f} | {max(ms):.0f} |"
        )

    verdict = "met" if p95(warm) < GOAL_S else "NOT met"
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench push_to_pr` (`bench/bench_push_to_pr.py`), {os.cpu_count()} CPUs "
            f"(load average {os.getloadavg()[0]:.1f} at the end), loopback: the sandbox and the "
            "bot (web app, SQLite queue, worker, use cases, githubkit adapter) in one process, "
            "each on its own uvicorn server. From publishing a container version (the sandbox "
            "sends the signed `registry_package` webhook) to the dev PR visible through the "
            f"REST API, polled every {POLL_S * 1000:.0f} ms. Warm: the installation's token and "
            "config are cached, a new app each run; cold: a new installation each run.",
            "",
            "| runs | n | min ms | median ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|",
            row("warm", warm),
            row("cold", cold),
            "",
            f"Warm p95 under {GOAL_S:.0f} s: **{verdict}**.",
            "",
        ]
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-push-to-pr-") as tmp:
        warm, cold = run(Path(tmp))
    print(report(warm, cold))


if __name__ == "__main__":
    main()
