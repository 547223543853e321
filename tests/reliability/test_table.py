"""The table of ``docs/reliability.md`` is what its figures render, and the figures a passing run
always gives (deliveries sent, crashes, hostile inputs tried, every zero) are today's."""

from __future__ import annotations

import pytest

from tests.reliability.table import DOC, main, problems, render, write


def test_the_reliability_document_is_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().err


def test_a_stale_count_is_named() -> None:
    text = DOC.read_text(encoding="utf-8")
    stale = write({"load": {"sent": 999, "processed": 999, "duplicated": 0, "lost": 1}}, text)
    found = problems(stale)
    assert "load sent=999, the suite says 1000" in found
    assert "load lost=1, the suite says 0" in found
    assert "no figures for crashes" in found


def test_hostile_cases_add_up_and_engines_stay_apart() -> None:
    figures = {
        "hostile:a": {"tried": 1, "handled": 1},
        "hostile:b": {"tried": 1, "handled": 0},
        "load@postgresql": {"sent": 3},
    }
    assert render(figures).splitlines()[2:] == [
        "| Load: 1,000 pushes, 50 apps, 3 repositories, one burst (postgresql) | deliveries sent "
        "| 3 |",
        "| Hostile input | inputs tried | 2 |",
        "|  | handled | 1 |",
    ]
