"""Writing a new value into an existing scalar's source text, in the scalar's own style."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.nodes import ScalarNode

from bot.core.files.yamlnodes import STR_TAG, YamlEditError

_RESOLVER = yaml.resolver.Resolver()
# Safe to write unquoted in block and flow context alike.
_PLAIN_SAFE_RE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./:@+=-]*")
# What other YAML readers (YAML 1.2 core, go-yaml v2 booleans) would not read as a string.
_OTHER_TYPES_RE = re.compile(
    r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+)"
    r"|(?i:y|n|yes|no|on|off|true|false|null)",
)
_DOUBLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@dataclass(frozen=True)
class Span:
    """Where a scalar's own text (after any anchor or tag) is in the source."""

    start: int
    end: int


def scalar_span(text: str, node: ScalarNode, offset: int) -> Span:
    """The exact source span of a one-line plain or quoted scalar; YamlEditError otherwise."""
    start, end = node.start_mark.index + offset, node.end_mark.index + offset
    where = f"line={node.start_mark.line + 1} column={node.start_mark.column + 1}"
    if node.style in ("|", ">") or node.start_mark.line != node.end_mark.line:
        raise YamlEditError(f"editing a block or multi-line scalar is not supported {where}")
    # The node's start mark sits on its anchor or tag (``&v "1.0"``); skip past them.
    while start < end and text[start] in "&!":
        while start < end and not text[start].isspace():
            start += 1
        while start < end and text[start] in " \t":
            start += 1
    source = text[start:end]
    quote = node.style or ""
    ok = source == node.value if not quote else source[:1] == quote == source[-1:]
    if not ok or (quote and len(source) < 2):
        raise YamlEditError(f"cannot locate scalar text byte-exactly {where} text={source!r}")
    return Span(start, end)


def is_plain_string(value: str) -> bool:
    """Whether ``value`` can be written unquoted and every YAML reader gets the same string."""
    if _PLAIN_SAFE_RE.fullmatch(value) is None or value.endswith(":"):
        return False
    if _OTHER_TYPES_RE.fullmatch(value) is not None:
        return False
    resolved = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved == STR_TAG)


def reads_as_string(node: ScalarNode) -> bool:
    """Whether a scalar parsed without type resolution reads as a string for every reader."""
    if node.tag != STR_TAG:
        return False
    return node.style in ("'", '"', "|", ">") or is_plain_string(node.value)


def render_scalar(style: str | None, value: str) -> str:
    """``value`` in the given style; a plain scalar that would change type gets double quotes."""
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    if style in ("'", '"') or not is_plain_string(value):
        return '"' + "".join(_DOUBLE_ESCAPES.get(c, c) for c in value) + '"'
    return value
