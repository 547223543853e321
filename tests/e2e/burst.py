"""A burst of image pushes: one environment repository holding ``apps`` apps, one image pushed
for each at once, each opening its dev PR. Shared by ``test_burst`` and ``bench/bench_burst``."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls

ENVS = ("dev", "staging")
READS = frozenset({"GET", "HEAD", "OPTIONS"})
# A PR's last writes, one each.
LAST_WRITES = (
    "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    "POST /repos/{owner}/{repo}/check-runs",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
)


def config(org: str, apps: int | range, policy: str = "auto") -> str:
    """The config of ``apps`` (a count, or which of ``app0``... by index), each environment on
    ``policy``."""
    lines = ["version: 1", "environments:"]
    lines += [f"  - name: {env}\n    path: envs/{env}\n    policy: {policy}" for env in ENVS]
    lines.append("apps:")
    for i in _indices(apps):
        lines += [f"  app{i}:", f"    image: ghcr.io/{org}/app{i}", f'    files: ["app{i}.yaml"]']
    return "\n".join(lines) + "\n"


def env_files(org: str, apps: int | range, policy: str = "auto") -> dict[str, str]:
    files = {".github/promotion.yml": config(org, apps, policy)}
    for env in ENVS:
        for i in _indices(apps):
            image = f"ghcr.io/{org}/app{i}"
            files[f"envs/{env}/app{i}.yaml"] = f"image:\n  repository: {image}\n  tag: 1.0.0\n"
    return files


def _indices(apps: int | range) -> range:
    return range(apps) if isinstance(apps, int) else apps


@dataclass(frozen=True)
class Burst:
    """What one burst cost: PRs opened, the installation's calls and the sandbox's limits."""

    pulls: int
    seconds: float
    calls: Counter[str]  # "METHOD route template" -> count, the installation's calls only
    limit_responses: int
    by_limit: dict[str, int]

    @property
    def reads(self) -> int:
        return sum(n for key, n in self.calls.items() if key.split(" ", 1)[0] in READS)

    @property
    def writes(self) -> int:
        return sum(self.calls.values()) - self.reads


def run_burst(
    stack: Stack, org: str, apps: int, *, deadline: float = 600.0, own_sources: bool = False
) -> Burst:
    """Create ``org`` (its ``env`` repository and an ``apps`` repository the images are built
    from, or with ``own_sources`` a repository per app), install the App, push one image per
    app at once and wait for every dev PR. The bot runs one job at a time per source
    repository: with one ``apps`` repository the pushes are worked one after the other."""
    stack.admin.run(calls.create_repo(org, "env", files=env_files(org, apps)))
    sources = [f"app{i}" if own_sources else "apps" for i in range(apps)]
    for source in dict.fromkeys(sources):
        stack.admin.run(calls.create_repo(org, source, files={"README.md": f"# {source}\n"}))
    installation = stack.install(org)
    reader = stack.admin.run(calls.create_user(f"{org}-reader"))
    stack.admin.run(calls.grant_role(org, "env", reader.login, "read"))
    view = stack.view(reader.token)
    started = time.perf_counter()
    try:
        for i, source in enumerate(sources):
            push = calls.publish_package(org, f"app{i}", repository=source, tag="1.1.0")
            stack.admin.run(push)

        def all_open() -> list[dict[str, Any]] | None:
            pulls = view.pulls(f"{org}/env", "all")
            return pulls if len(pulls) >= apps else None

        wait_until(all_open, f"{apps} dev PRs org={org}", timeout=deadline)

        def finished() -> bool:
            # Each PR's labels, check run and review comment come later (paced too, and the
            # review from the ``pull_request`` delivery, which the bot takes in before it
            # queues it): the queue alone can look empty in between.
            if not stack.admin.run(calls.flush_deliveries()):
                return False
            done = stack.admin.run(calls.counters(installation_id=installation))["by_route"]
            return all(done.get(route, 0) >= apps for route in LAST_WRITES) and stack.bot.idle()

        wait_until(finished, f"every PR's labels, check run and comment org={org}", deadline)
        seconds = time.perf_counter() - started
        pulls = view.pulls(f"{org}/env", "all")
    finally:
        view.close()
    log = stack.admin.run(calls.requests_log(installation_id=installation))
    by_limit = Counter(entry["limit"] for entry in log if entry["limit"])
    return Burst(
        pulls=len(pulls),
        seconds=seconds,
        calls=Counter(f"{entry['method']} {entry['route']}" for entry in log),
        limit_responses=sum(by_limit.values()),
        by_limit=dict(by_limit),
    )
