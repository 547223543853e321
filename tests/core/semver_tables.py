"""Loads the semver test vectors in ``tests/data/semver`` (see the README there)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "semver"


def load(name: str) -> list[dict[str, str]]:
    """Rows of one TSV as dicts, with the README's ``\\n`` escape undone."""
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [{k: v.replace("\\n", "\n") for k, v in row.items()} for row in rows]


def row_id(index: int, *fields: str) -> str:
    """A readable pytest id: row number plus the fields that identify the case."""
    return f"{index + 2}:" + "|".join(repr(f) if f != f.strip() or not f else f for f in fields)


def load_json(name: str) -> dict[str, Any]:
    """One JSON table (its ``_source`` says where the cases come from)."""
    with (DATA / name).open(encoding="utf-8") as handle:
        table: dict[str, Any] = json.load(handle)
    return table
