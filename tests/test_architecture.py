"""The core is pure: ``bot.core`` imports only the standard library's pure modules, a few pure
parsing libraries and itself, and reads no clock.

Which part of the bot may import which is held by import-linter's contracts in
``pyproject.toml`` (``lint-imports``, run by CI); this is the allow-list import-linter cannot
express. The checks read the source with ``ast`` so they see imports inside functions, and
relative imports are resolved to the module they name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# Third-party modules that only compute on values.
PURE_LIBRARIES = {
    "yaml", "pydantic", "pydantic_core", "packaging", "re2", "cronsim", "hcl2", "lark", "ruamel",
}  # fmt: skip
# Standard-library modules the core may use: none of them reaches files, network, processes or
# the clock by importing them (datetime is used for values; ``now()`` is checked separately).
PURE_STDLIB = {
    "__future__", "abc", "base64", "bisect", "collections", "dataclasses", "datetime", "decimal",
    "difflib", "enum", "fnmatch", "functools", "hashlib", "heapq", "html", "itertools", "json",
    "math", "operator", "re", "string", "textwrap", "types", "typing", "unicodedata", "urllib",
    "zoneinfo",
}  # fmt: skip


def _package(path: Path) -> list[str]:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    return parts if parts[-1] == "__init__" else parts[:-1]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _package(path)[: len(_package(path)) - node.level + 1] if node.level else []
            found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
    return found


def _modules(layer: str) -> list[Path]:
    return sorted((BOT / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: str(p.relative_to(BOT)))
def test_core_imports_nothing_that_does_io(path: Path) -> None:
    allowed = PURE_LIBRARIES | PURE_STDLIB
    bad = [
        f"{path.name}:{line} imports {name}"
        for line, name in _imports(path)
        if not name.startswith("bot.core") and name.split(".")[0] not in allowed
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: str(p.relative_to(BOT)))
def test_core_reads_no_clock(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for call in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time("):
        assert call not in text, f"{path.name} calls {call}: take the time as a value"
