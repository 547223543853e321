"""The layering the project promises: the core is pure and dependencies point inward.

``bot.core`` may import only the standard library's pure modules, a few pure parsing libraries
and itself; ``bot.services`` may not reach outward to adapters, entrypoints or the sandbox. The
checks read the source with ``ast`` so they see imports inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# Third-party modules that only compute on values.
PURE_LIBRARIES = {"yaml", "pydantic", "pydantic_core", "packaging", "re2"}
# Standard-library modules the core may use: none of them reaches files, network, processes or
# the clock by importing them (datetime is used for values; ``now()`` is checked separately).
PURE_STDLIB = {
    "__future__", "abc", "base64", "bisect", "collections", "dataclasses", "datetime", "decimal",
    "difflib", "enum", "fnmatch", "functools", "hashlib", "heapq", "html", "itertools", "json",
    "math", "operator", "re", "string", "textwrap", "types", "typing", "unicodedata", "urllib",
    "zoneinfo",
}  # fmt: skip
# Who may not import whom (layer -> forbidden prefixes).
INWARD_ONLY = {
    "core": ("bot.services", "bot.adapters", "bot.entrypoints", "bot.sandbox", "bot.cli"),
    "services": ("bot.adapters", "bot.entrypoints", "bot.sandbox", "bot.cli"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _modules(layer: str) -> list[Path]:
    return sorted((BOT / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_imports_nothing_that_does_io(path: Path) -> None:
    allowed = PURE_LIBRARIES | PURE_STDLIB
    bad = [
        f"{path.name}:{line} imports {name}"
        for line, name in _imports(path)
        if not name.startswith("bot.core") and name.split(".")[0] not in allowed
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_reads_no_clock(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for call in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time("):
        assert call not in text, f"{path.name} calls {call}: take the time as a value"


@pytest.mark.parametrize(
    ("layer", "path"),
    [(layer, path) for layer in INWARD_ONLY for path in _modules(layer)],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_dependencies_point_inward(layer: str, path: Path) -> None:
    forbidden = INWARD_ONLY[layer]
    bad = [
        f"{path.name}:{line} imports {name}"
        for line, name in _imports(path)
        if name.startswith(forbidden)
    ]
    assert not bad, "\n".join(bad)
