"""The reliability table of ``docs/reliability.md``, rendered from the suite's figures.

``python -m tests.reliability.table --write`` renders ``test-artifacts/reliability.json`` (written
by a run of ``tests/reliability``) into the document, between its markers, with the figures
themselves in a comment. ``--check`` fails when the document's table is not what its figures
render, or when a figure the suite fixes (deliveries sent, crashes, hostile inputs tried, and
every zero) is not what the suite's scenarios say today: it keeps the document fresh without a
run of the whole suite."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence

from tests.reliability import figures as recorded
from tests.reliability.figures import ROOT

DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- reliability-table -->", "<!-- /reliability-table -->"
_EMBEDDED = re.compile(r"<!-- figures: (\{.*?\}) -->", re.S)
Figures = dict[str, dict[str, int]]

# Scenario -> its title and the counts shown, in order (count name -> its words).
ROWS: dict[str, tuple[str, dict[str, str]]] = {
    "load": (
        "Load: 1,000 pushes, 50 apps, 3 repositories, one burst",
        {"sent": "deliveries sent", "processed": "processed", "duplicated": "duplicated",
         "lost": "lost"},
    ),
    "faults": (
        "Faults: 5xx, timeouts, secondary limits, 422 races",
        {"injected": "faults injected", "survived": "survived"},
    ),
    "crashes": (
        "Crashes: SIGKILL at seeded moments",
        {"crashes": "crashes", "recovered": "recovered", "sent": "deliveries sent",
         "duplicated": "duplicated", "lost": "lost", "dead_lettered": "jobs dead-lettered"},
    ),
    "rate_limit": (
        "Rate limit at zero for one installation",
        {"calls_while_limited": "calls before the reset"},
    ),
    "race": (
        "Two workers on PostgreSQL, one repository",
        {"pulls": "PRs", "commits": "commits", "versions": "versions"},
    ),
    "hostile": ("Hostile input", {"tried": "inputs tried", "handled": "handled"}),
}  # fmt: skip


def summed(figures: Figures) -> Figures:
    """``hostile:<case>`` figures added up into ``hostile``; engines kept apart (``load@pg``)."""
    out: Figures = {}
    for key, counts in figures.items():
        name = "hostile" if key.startswith("hostile:") else key
        into = out.setdefault(name, {})
        for count, value in counts.items():
            into[count] = into.get(count, 0) + value if name == "hostile" else value
    return out


def render(figures: Figures) -> str:
    lines = ["| Scenario | Figure | Count |", "| --- | --- | ---: |"]
    totals = summed(figures)
    for key in sorted(totals, key=_order):
        scenario, _, engine = key.partition("@")
        title, counts = ROWS[scenario]
        label = f"{title} ({engine})" if engine else title
        for count, words in counts.items():
            if count in totals[key]:
                lines.append(f"| {label} | {words} | {totals[key][count]:,} |")
                label = ""
    return "\n".join(lines)


def _order(key: str) -> tuple[int, str]:
    return list(ROWS).index(key.partition("@")[0]), key


def fixed() -> Figures:
    """The figures every passing run of the suite gives, from the scenarios' own constants."""
    # Imported here: the scenarios import pytest and the harness, which --write does not need.
    from tests.reliability import load, test_crashes, test_hostile_input, test_race  # noqa: PLC0415

    hostile = len(test_hostile_input.REQUESTS) + len(test_hostile_input.CONFIGS)
    hostile += len(test_hostile_input.TAGS)
    sent = load.APPS * len(load.VERSIONS)
    crashes = {
        f"crashes{suffix}": {"crashes": n, "recovered": n, "duplicated": 0, "lost": 0,
                             "sent": test_crashes.APPS * n}
        for suffix, n in test_crashes.CRASHES_ON.items()
    }  # fmt: skip
    return {
        "load": {"sent": sent, "processed": sent, "duplicated": 0, "lost": 0},
        **crashes,
        "race": {"pulls": 1, "versions": len(test_race.VERSIONS)},
        "hostile": {"tried": hostile, "handled": hostile},
    }


# Scenarios every run has figures for (the PostgreSQL race needs a server).
REQUIRED = ("load", "faults", "crashes", "rate_limit", "hostile")


def problems(text: str) -> list[str]:
    """What is stale or wrong in the document ``text``."""
    embedded = _EMBEDDED.search(text)
    if embedded is None or BEGIN not in text:
        return [f"{DOC.name}: no figures; run python -m tests.reliability.table --write"]
    figures: Figures = json.loads(embedded.group(1))
    found: list[str] = []
    if _between(text) != render(figures):
        found.append("the table is not what its figures render: run --write")
    totals = summed(figures)
    for key, counts in totals.items():
        want = fixed().get(key) or fixed().get(key.partition("@")[0], {})
        found += [
            f"{key} {count}={counts.get(count)}, the suite says {value}"
            for count, value in want.items()
            if counts.get(count) != value
        ]
        if "injected" in counts and counts["survived"] != counts["injected"]:
            found.append(f"{key}: survived={counts['survived']} of injected={counts['injected']}")
    missing = set(REQUIRED) - {key.partition("@")[0] for key in totals}
    found += [f"no figures for {key}" for key in sorted(missing)]
    return found


def _between(text: str) -> str:
    inner = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return _EMBEDDED.sub("", inner).strip()


def write(figures: Figures, text: str) -> str:
    """``text`` with the table between the markers rendered from ``figures``."""
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    embedded = f"<!-- figures: {json.dumps(figures, sort_keys=True)} -->"
    return f"{head}{BEGIN}\n{embedded}\n\n{render(figures)}\n\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.table")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="render the last run's figures")
    action.add_argument("--check", action="store_true", help="fail if the document is stale")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    if args.write:
        figures = recorded.read()
        if not figures:
            print(
                f"no figures in {recorded.FIGURES}: run pytest tests/reliability", file=sys.stderr
            )
            return 1
        DOC.write_text(write(figures, text), encoding="utf-8")
        text = DOC.read_text(encoding="utf-8")
    found = problems(text)
    for problem in found:
        print(f"{DOC.relative_to(ROOT)}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
