"""How long the command line takes to start, as a ratio of a bare interpreter, in one run.

Each command runs as a new process (``python -m bot ...``) on a one-file input, interleaved with
``python -c pass`` so that both see the same machine load; the report gives each one's minimum
and median wall time, the ratios of minima and of medians (the goal: at most 4 for ``--help``,
``images`` and ``set-image``) and the heavy packages each command imported. A reference row,
``import pydantic`` alone, shows the floor of every command that reads a policy or a config
through the pydantic models (``versions pick``, ``check-config``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VALUES = ROOT / "tests" / "data" / "yamledit" / "quotes" / "original" / "values.yaml"
HEAVY = ("pydantic", "githubkit", "httpx", "fastapi", "uvicorn", "github_sandbox")
GOAL = 4.0
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "images": ["images", str(VALUES)],
    "set-image": ["set-image", str(VALUES), "--image", "ghcr.io/acme/api", "--tag", "v2"],
    "set-image --diff": [
        *("set-image", str(VALUES), "--image", "ghcr.io/acme/api", "--tag", "v2", "--diff"),
    ],
    "versions pick": ["versions", "pick", "--policy", "minor", "--current", "1.4.2", "1.5.0"],
    "check-config": ["check-config", str(ROOT / "tests/data/config/valid/full.yml")],
}
# Timed like the bare interpreter: what importing pydantic's BaseModel alone costs.
PYDANTIC = "import pydantic"
PYDANTIC_CODE = "from pydantic import BaseModel"
# Prints which heavy packages are loaded once the command has run.
PROBE = (
    "import sys, runpy; sys.argv = ['promotion-bot', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('bot', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    f"print('heavy=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
)


def wall(argv: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def heavy_imports(args: list[str], cwd: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    return done.stderr.splitlines()[-1].removeprefix("heavy=")


def main(runs: int = 15) -> None:
    bare = [sys.executable, "-c", "pass"]
    pydantic = [sys.executable, "-c", PYDANTIC_CODE]
    times: dict[str, list[float]] = {"bare": [], PYDANTIC: [], **{n: [] for n in COMMANDS}}
    with tempfile.TemporaryDirectory() as cwd:
        for _ in range(runs):
            times["bare"].append(wall(bare, cwd))
            times[PYDANTIC].append(wall(pydantic, cwd))
            for name, args in COMMANDS.items():
                times[name].append(wall([sys.executable, "-m", "bot", *args], cwd))
        loaded = {name: heavy_imports(args, cwd) for name, args in COMMANDS.items()}
    base = min(times["bare"])
    print(f"python={sys.version.split()[0]} runs={runs} (min and median wall ms; ratio of minima)")
    print(f"{'python -c pass':22} min={base * 1000:6.1f} median={_median(times['bare']):6.1f}")
    for name in [PYDANTIC, *COMMANDS]:
        ratio = min(times[name]) / base
        middle = _median(times[name]) / _median(times["bare"])
        heavy = "pydantic" if name == PYDANTIC else loaded[name] or "-"
        print(
            f"{name:22} min={min(times[name]) * 1000:6.1f} median={_median(times[name]):6.1f} "
            f"ratio={ratio:4.1f}x (medians {middle:4.1f}x) heavy={heavy}"
        )
    for name in ("--help", "images", "set-image"):
        verdict = "met" if min(times[name]) / base <= GOAL else "NOT met"
        print(f"goal {name} <= {GOAL:.0f}x: {verdict}")


def _median(spent: list[float]) -> float:
    return statistics.median(spent) * 1000
