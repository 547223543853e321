"""set_image against a ruamel.yaml round trip on the largest corpus file, in one run.

Both set ``alertmanager.alertmanagerSpec.image.tag``; the report gives the median time of each,
the ratio, and how many lines each changed besides the one intended.
"""

from __future__ import annotations

import difflib
import gc
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

from bot.core.files.yamledit import set_image

FILE = (
    Path(__file__).parent.parent / "tests" / "data" / "yaml" / "kube-prometheus-stack.values.yaml"
)
IMAGE, NEW_TAG = "quay.io/prometheus/alertmanager", "v0.35.0"
INTENDED_LINES = 1


def with_set_image(text: str) -> str:
    return set_image(text, image=IMAGE, tag=NEW_TAG).text


def with_ruamel(text: str) -> str:
    yaml = YAML()
    data = yaml.load(text)
    data["alertmanager"]["alertmanagerSpec"]["image"]["tag"] = NEW_TAG
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def timings(edits: list[Callable[[str], str]], text: str, runs: int) -> list[list[float]]:
    """Seconds per run for each edit, interleaved so that both see the same machine load."""
    times: list[list[float]] = [[] for _ in edits]
    gc.disable()  # as timeit does, for both contenders
    try:
        for _ in range(runs):
            for edit, spent in zip(edits, times, strict=True):
                start = time.perf_counter()
                edit(text)
                spent.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return times


def changed_lines(old: str, new: str) -> int:
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    )


def main() -> None:
    text = FILE.read_bytes().decode("utf-8")
    ours, theirs = timings([with_set_image, with_ruamel], text, runs=7)
    ours_extra = changed_lines(text, with_set_image(text)) - INTENDED_LINES
    theirs_extra = changed_lines(text, with_ruamel(text)) - INTENDED_LINES
    lines = len(text.splitlines())
    print(f"file={FILE.name} lines={lines} bytes={len(text.encode())}")
    for label, spent, extra in (("set_image", ours, ours_extra), ("ruamel", theirs, theirs_extra)):
        best, middle = min(spent) * 1000, statistics.median(spent) * 1000
        print(f"{label:10} min={best:7.1f} ms median={middle:7.1f} ms collateral_lines={extra}")
    print(f"speedup min={min(theirs) / min(ours):.1f}x")
    print(f"speedup median={statistics.median(theirs) / statistics.median(ours):.1f}x")
