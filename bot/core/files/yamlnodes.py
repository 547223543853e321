"""Parsing YAML into a node graph with exact source positions, safely.

PyYAML's ``compose`` (libyaml when available) gives nodes whose marks are character indexes into
the parsed string; these helpers turn them into spans of the original text. Aliases are shared
nodes, so every walk keeps a visited set and never expands them (a "billion laughs" file costs
no more than its own size). Input size and node count are capped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_INPUT_CHARS = 5_000_000
MAX_NODES = 500_000
BOM = "\ufeff"
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"

# Implicit types are not resolved (a third of the parse time): callers compare scalars by value,
# style and explicit tag, and resolve the few values they write (``scalars.is_plain_string``).
_Loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})

PathPart = str | int

# YAML's own line breaks (str.splitlines also splits on \v, \f and others; libyaml does not).
_LINE_RE = re.compile("([^\r\n\x85\u2028\u2029]*)(\r\n|[\r\n\x85\u2028\u2029]|$)")


class YamlEditError(ValueError):
    """A YAML text that cannot be read, or an edit that cannot be made byte-exact."""


NodeEntry = tuple[int, Node, tuple[PathPart, ...]]


@dataclass(frozen=True)
class Parsed:
    """A parsed text: its documents' roots, every collection node once (document, node, first
    path), the offset of marks into ``text`` (1 after a BOM), and the documents not read."""

    text: str
    file: str
    roots: tuple[Node, ...]
    offset: int
    nodes: tuple[NodeEntry, ...]
    skipped: tuple[SkippedDocument, ...] = ()


def parse_yaml(text: str, file: str = "") -> Parsed:
    """Compose every document of ``text``; raise YamlEditError on size or syntax problems (a
    document of a multi-document file that does not parse is skipped, see ``compose_roots``)."""
    composed = compose_roots(text, file)
    nodes: list[NodeEntry] = []
    count = 0
    for index, root in enumerate(composed.roots):
        for node, path in walk(root):
            nodes.append((index, node, path))
            count += 1 + len(node.value)
            if count > MAX_NODES:
                raise YamlEditError(f"yaml has too many nodes file={file!r} limit={MAX_NODES}")
    return Parsed(text, file, composed.roots, composed.offset, tuple(nodes), composed.skipped)


@dataclass(frozen=True)
class SkippedDocument:
    """A document of a multi-document file that does not parse (a Helm template, most often):
    its number (from 1, as a reader counts: comments before the first ``---`` are none), its
    first line, and why."""

    number: int
    line: int
    reason: str


@dataclass(frozen=True)
class Composed:
    """The documents read from a text, the offset of their marks into it, those skipped."""

    roots: tuple[Node, ...]
    offset: int
    skipped: tuple[SkippedDocument, ...] = ()


def compose_roots(text: str, file: str = "") -> Composed:
    """The documents' root nodes and the offset of their marks into ``text``.

    When a multi-document file does not parse, each document is read on its own: those that do
    not parse are turned into comments (same length, same line breaks, so every mark still
    indexes ``text``), reported in ``skipped``, and the rest are read. If none parses, or the
    file has one document, the syntax error is raised.
    """
    if len(text) > MAX_INPUT_CHARS:
        raise YamlEditError(
            f"parsing yaml refused file={file!r} chars={len(text)} limit={MAX_INPUT_CHARS}"
        )
    # libyaml drops a leading BOM without counting it in its marks.
    offset = 1 if text.startswith(BOM) else 0
    try:
        return Composed(_compose(text[offset:]), offset)
    except yaml.YAMLError as err:
        failed = _failing_documents(text[offset:])
        if not failed or len(failed) == len(_documents(text[offset:])):
            raise YamlEditError(f"parsing yaml failed file={file!r}: {_describe(err)}") from err
    blanked = _blank(text[offset:], [(start, end) for start, end, _ in failed])
    try:
        roots = _compose(blanked)
    except yaml.YAMLError as err:
        raise YamlEditError(f"parsing yaml failed file={file!r}: {_describe(err)}") from err
    return Composed(roots, offset, tuple(skipped for _, _, skipped in failed))


def _compose(text: str) -> tuple[Node, ...]:
    return tuple(r for r in yaml.compose_all(text, Loader=_Loader) if r is not None)


# A document starts at ``---`` at the start of a line, followed by a blank or the line's end;
# YAML forbids that sequence inside any scalar, so splitting there never cuts one.
_DOCUMENT_START_RE = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)


def _documents(text: str) -> list[tuple[int, int]]:
    """(start, end) of each document's text, the ``---`` line included."""
    starts = [m.start() for m in _DOCUMENT_START_RE.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return list(zip(starts, [*starts[1:], len(text)], strict=True))


_CONTENT_RE = re.compile(r"^(?!---(?:[ \t]|$))[ \t]*[^\s#]", re.MULTILINE)


def _failing_documents(text: str) -> list[tuple[int, int, SkippedDocument]]:
    failed = []
    documents = _documents(text)
    number = 0
    for start, end in documents:
        # Numbered as a reader counts them: a licence header before the first ``---`` is none.
        number += 1 if _CONTENT_RE.search(text, start, end) else 0
        try:
            _compose(text[start:end])
        except yaml.YAMLError as err:
            line = text.count("\n", 0, start) + 1
            what = "a Helm template" if "{{" in text[start:end] else "a document"
            why = f"{what} that does not parse as YAML: {_describe(err, first_line=line)}"
            failed.append((start, end, SkippedDocument(number, line, why)))
    return failed if len(documents) > 1 else []


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span's lines made comments of the same length (a leading ``---``
    stays, so the document keeps its place and number)."""
    out, cursor = [], 0
    for start, end in spans:
        keep = start + 3 if text.startswith("---", start) else start
        out.append(text[cursor:keep])
        out.append(_LINE_CONTENT_RE.sub(_comment_out, text[keep:end]))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


_LINE_CONTENT_RE = re.compile(r"[^\r\n\x85\u2028\u2029]+")


def _comment_out(match: re.Match[str]) -> str:
    line = match.group(0)
    stripped = line.lstrip(" \t")
    if not stripped:
        return line
    indent = len(line) - len(stripped)
    # A ``#`` starts a comment only after a blank or at a line's start: the remainder of a
    # ``---`` line starts with one, every other line starts at column 0.
    return line[:indent] + "#" + " " * (len(stripped) - 1)


def _describe(err: yaml.YAMLError, first_line: int = 1) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is None:
        return str(problem)
    return f"{problem} line={mark.line + first_line} column={mark.column + 1}"


def walk(root: Node) -> Iterator[tuple[Node, tuple[PathPart, ...]]]:
    """Every collection reachable from ``root`` once, in document order, with its first path.

    Scalars are left to their parents (``scalar_children``): they are most of the nodes, and
    skipping them keeps this hot loop short. Aliases are shared nodes and are not expanded (a
    "billion laughs" file costs its own size).
    """
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[PathPart, ...]]] = [(root, ())]
    push = stack.append
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node, path
        if isinstance(node, MappingNode):
            for key, value in reversed(node.value):
                if not isinstance(value, ScalarNode):
                    push((value, (*path, key_text(key))))
        elif isinstance(node, SequenceNode):
            items = node.value
            for index in range(len(items) - 1, -1, -1):
                if not isinstance(items[index], ScalarNode):
                    push((items[index], (*path, index)))


def scalar_children(
    node: Node, path: tuple[PathPart, ...]
) -> Iterator[tuple[ScalarNode, tuple[PathPart, ...]]]:
    """The scalar values of a collection, with their paths."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(value, ScalarNode):
                yield value, (*path, key_text(key))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            if isinstance(item, ScalarNode):
                yield item, (*path, index)


def walk_all(parsed: Parsed) -> Iterator[NodeEntry]:
    """Every collection of every document once, with the document index and its first path."""
    return iter(parsed.nodes)


def mapping_value(node: Node | None, key: str) -> Node | None:
    """The value of ``key`` in a mapping (cheaper than ``mapping_items`` for one look-up)."""
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                found: Node = v
                return found
    return None


def key_text(key: Node) -> str:
    return key.value if isinstance(key, ScalarNode) else f"<{type(key).__name__}>"


def format_path(path: tuple[PathPart, ...], doc: int = 0) -> str:
    """``spec.containers[0].image``; documents after the first are prefixed ``[doc]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"[{doc}].{text}" if doc else text


def mapping_items(node: Node | None) -> dict[str, tuple[ScalarNode, Node]]:
    """Scalar-keyed entries of a mapping: key text -> (key node, value node)."""
    if not isinstance(node, MappingNode):
        return {}
    return {k.value: (k, v) for k, v in node.value if isinstance(k, ScalarNode)}


MERGE_KEY = "<<"
_MERGE_DEPTH = 4


def merged_items(node: Node | None, depth: int = 0) -> dict[str, tuple[ScalarNode, Node]]:
    """``mapping_items`` with YAML merge keys applied: the map's own keys win over merged ones,
    and of several merged maps (``<<: [*a, *b]``) the first wins. Nested merges are followed a
    few levels deep, never further (aliases are shared nodes and may be recursive)."""
    items = mapping_items(node)
    merge = items.pop(MERGE_KEY, None)
    if merge is None or depth >= _MERGE_DEPTH:
        return items
    sources = merge[1].value if isinstance(merge[1], SequenceNode) else [merge[1]]
    merged: dict[str, tuple[ScalarNode, Node]] = {}
    for source in reversed(sources):
        merged.update(merged_items(source, depth + 1))
    merged.update(items)
    return merged


def scalar_value(node: Node | None) -> str | None:
    """The text of a non-null scalar, else None."""
    if not isinstance(node, ScalarNode) or is_null(node):
        return None
    return str(node.value)


def is_null(node: ScalarNode) -> bool:
    """Whether a scalar reads as null (plain ``null``/``~``/nothing, or tagged ``!!null``)."""
    return node.tag == NULL_TAG or (
        not node.style and node.tag == STR_TAG and node.value in _NULL_WORDS
    )


def yaml_lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
    """(start index, content without the break) of each line of ``text[start:end]``, numbered as
    libyaml numbers them."""
    end = len(text) if end is None else end
    for match in _LINE_RE.finditer(text, start, end):
        if match.end() == match.start() and match.start() == end and end > start:
            return
        yield match.start(), match.group(1)
