"""``promotion-bot drift PATH`` on a generated clone: 1,000 apps in 3 environments.

The repository (made with ``git`` in a temporary directory) holds
``envs/{dev,staging,prod}/<app>/values.yaml`` with an image tag and a few values, and planted
drift: apps behind their upstream, values changed by hand (each a direct commit), files in one
environment only, and a history of promotion commits. Each run is one whole local audit as the
command runs it (config, ``ls-tree`` per environment, one ``cat-file --batch``, bounds, logs,
``audit``), against a baseline in the same run: git alone reading the same objects (``ls-tree``
per environment and one ``cat-file --batch`` of every blob, output discarded). It prints the
"Drift audit of a local clone" section of docs/benchmarks.md; ``--profile`` prints where the
time goes.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.catalog import builtin_policies
from bot.adapters.local_git import LocalClone, config_text, read_clone
from bot.cli.drift import audit_clone
from bot.core.config import parse_config
from bot.core.drift.audit import audit
from tests.adapters.gitrepos import commit

APPS = 1000
ENVS = ("dev", "staging", "prod")
RUNS = 5
GOAL_S = 5.0
BEHIND = range(0, APPS, 50)  # 20 apps whose prod runs an older version
BY_HAND = range(8, APPS, 100)  # 10 apps with a value changed by hand in prod
ONLY_STAGING = range(3, APPS, 250)  # 4 apps with a file in staging only
PROMOTIONS = 30  # promotion commits (squashes) in the history
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
GIT += ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(
        [*GIT, "-C", str(root), *args], input=stdin, capture_output=True, env=ENV, check=True
    )
    return done.stdout


def config() -> str:
    lines = ["version: 1", "environments:"]
    lines += [f"  - name: {env}\n    path: envs/{env}" for env in ENVS]
    lines.append("apps:")
    for i in range(APPS):
        lines += [f"  app{i:04}:", f"    image: ghcr.io/acme/app{i:04}"]
        lines.append(f'    files: ["app{i:04}/*.yaml"]')
    return "\n".join(lines) + "\n"


def values(app: int, tag: str, replicas: int = 2) -> str:
    return (
        f"image:\n  repository: ghcr.io/acme/app{app:04}\n  tag: {tag}\n"
        f"replicas: {replicas}\nresources:\n  limits:\n    cpu: 500m\n    memory: 256Mi\n"
        f"env:\n  - name: LOG_LEVEL\n    value: info\n  - name: APP\n    value: app{app:04}\n"
    )


def make_repo(root: Path) -> int:
    """The environment repository; returns the differences planted."""
    git(root, "init", "-q")
    files = {".github/promotion.yml": config()}
    for env in ENVS:
        for i in range(APPS):
            files[f"envs/{env}/app{i:04}/values.yaml"] = values(i, "1.0.0")
    for i in ONLY_STAGING:
        files[f"envs/staging/app{i:04}/extra.yaml"] = "feature: on\n"
    commit(root, "set up", files)
    for n in range(PROMOTIONS):
        app = 1 + 3 * n
        for env in ENVS:
            path = f"envs/{env}/app{app:04}/values.yaml"
            commit(
                root,
                f"Promote app{app:04} 1.0.1 to {env} (#{n * 3 + 1})",
                {path: values(app, "1.0.1")},
            )
    for i in BEHIND:
        for env in ("dev", "staging"):
            path = f"envs/{env}/app{i:04}/values.yaml"
            commit(
                root, f"Promote app{i:04} 1.1.0 to {env} (#{1000 + i})", {path: values(i, "1.1.0")}
            )
    for i in BY_HAND:
        path = f"envs/prod/app{i:04}/values.yaml"
        commit(root, f"app{i:04}: more replicas", {path: values(i, "1.0.0", replicas=5)})
    # behind; by hand: a value and a direct commit each; staging only: dev->staging and
    # staging->prod each name the file
    return len(BEHIND) + 2 * len(BY_HAND) + 2 * len(ONLY_STAGING)


def git_alone(root: Path) -> None:
    """The baseline: git reading the same trees and every blob, nothing parsed."""
    clone = LocalClone(root)
    shas = []
    for env in ENVS:
        shas += [e.sha for e in clone.tree("HEAD", f"envs/{env}")]
    git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in dict.fromkeys(shas)).encode())


def timed(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        root = Path(tmp) / "env-repo"
        root.mkdir()
        started = time.perf_counter()
        planted = make_repo(root)
        made = time.perf_counter() - started
        report, _ = audit_clone(root, now=NOW)
        if "--profile" in sys.argv:
            profile(root)
            return
        ours, baseline, steps = [], [], []
        for _ in range(RUNS):
            baseline.append(timed(lambda: git_alone(root)))
            ours.append(timed(lambda: audit_clone(root, now=NOW)))
            steps.append(phases(root))
    files = APPS * len(ENVS) + len(ONLY_STAGING)
    print(f"apps={APPS} environments={len(ENVS)} files={files} cpus={os.cpu_count()}")
    print(f"repository made in {made:.1f} s; differences planted={planted} found={report.count}")
    for label, spent in (("drift PATH", ours), ("git alone", baseline)):
        best, middle = min(spent), statistics.median(spent)
        print(f"{label:11} min={best:6.2f} s median={middle:6.2f} s")
    for index, name in enumerate(("parse_config", "read_clone", "audit")):
        print(f"  {name:12} median={statistics.median(t[index] for t in steps):6.2f} s")
    ratio = statistics.median(ours) / statistics.median(baseline)
    met = "met" if statistics.median(ours) < GOAL_S else "NOT met"
    print(f"ratio drift/git median={ratio:.1f}x; goal < {GOAL_S:g} s: {met}")
    if report.count != planted:
        print(f"MISMATCH: planted={planted} found={report.count}")


def phases(root: Path) -> tuple[float, float, float]:
    """Seconds spent parsing the config, reading the clone (git, bounds, logs) and auditing."""
    clone = LocalClone(root)
    default = clone.default_branch()
    text = config_text(clone, default[1])
    started = time.perf_counter()
    config = parse_config(text, builtin=builtin_policies())
    parsed = time.perf_counter()
    read = read_clone(clone, config, repo="acme/gitops", default=default)
    done = time.perf_counter()
    audit(config, read.views, read.facts, repo="acme/gitops", now=NOW)
    return parsed - started, done - parsed, time.perf_counter() - done


def profile(root: Path) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(audit_clone, root, now=NOW)
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(30)


if __name__ == "__main__":
    main()
