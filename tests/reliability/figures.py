"""The suite's figures: each scenario records its counts into ``test-artifacts/reliability.json``
(scenario -> count name -> number), which ``tests.reliability.table`` renders into
``docs/reliability.md``. Scenarios run in several test processes at once: the file is updated
under an exclusive lock."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "test-artifacts" / "reliability.json"


def record(scenario: str, **counts: int) -> None:
    """Set ``scenario``'s counts, keeping the other scenarios' (and this one's other counts)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        figures = read()
        figures[scenario] = figures.get(scenario, {}) | counts
        FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def read(path: Path = FIGURES) -> dict[str, dict[str, int]]:
    if not path.exists():
        return {}
    figures: dict[str, dict[str, int]] = json.loads(path.read_text())
    return figures
