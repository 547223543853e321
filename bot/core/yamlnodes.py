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

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathPart = str | int

# YAML's own line breaks (str.splitlines also splits on \v, \f and others; libyaml does not).
_LINE_RE = re.compile("([^\r\n\x85\u2028\u2029]*)(\r\n|[\r\n\x85\u2028\u2029]|$)")


class YamlEditError(ValueError):
    """A YAML text that cannot be read, or an edit that cannot be made byte-exact."""


@dataclass(frozen=True)
class Parsed:
    """A parsed text: its documents' roots and the offset of marks into ``text`` (a BOM)."""

    text: str
    file: str
    roots: tuple[Node, ...]
    offset: int


def parse_yaml(text: str, file: str = "") -> Parsed:
    """Compose every document of ``text``; raise YamlEditError on size or syntax problems."""
    if len(text) > MAX_INPUT_CHARS:
        raise YamlEditError(
            f"parsing yaml refused file={file!r} chars={len(text)} limit={MAX_INPUT_CHARS}"
        )
    # libyaml drops a leading BOM without counting it in its marks.
    offset = 1 if text.startswith(BOM) else 0
    try:
        roots = tuple(r for r in yaml.compose_all(text[offset:], Loader=_Loader) if r is not None)
    except yaml.YAMLError as err:
        raise YamlEditError(f"parsing yaml failed file={file!r}: {_describe(err)}") from err
    parsed = Parsed(text, file, roots, offset)
    count = sum(1 for _ in walk_all(parsed))
    if count > MAX_NODES:
        raise YamlEditError(
            f"yaml has too many nodes file={file!r} nodes={count} limit={MAX_NODES}"
        )
    return parsed


def _describe(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is None:
        return str(problem)
    return f"{problem} line={mark.line + 1} column={mark.column + 1}"


def walk(root: Node) -> Iterator[tuple[Node, tuple[PathPart, ...]]]:
    """Every node reachable from ``root`` once, with its first path; aliases are not expanded."""
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[PathPart, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > MAX_NODES:
            raise YamlEditError(f"yaml has too many nodes limit={MAX_NODES}")
        yield node, path
        stack.extend(reversed(list(children(node, path))))


def walk_all(parsed: Parsed) -> Iterator[tuple[int, Node, tuple[PathPart, ...]]]:
    """``walk`` over every document, with the document index."""
    for index, root in enumerate(parsed.roots):
        for node, path in walk(root):
            yield index, node, path


def children(node: Node, path: tuple[PathPart, ...]) -> Iterator[tuple[Node, tuple[PathPart, ...]]]:
    """The value children of a collection (mapping keys are not visited, only named)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            yield value, (*path, key_text(key))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield item, (*path, index)


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


def scalar_value(node: Node | None) -> str | None:
    """The text of a non-null scalar, else None."""
    if not isinstance(node, ScalarNode) or node.tag == NULL_TAG:
        return None
    return str(node.value)


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def yaml_lines(text: str) -> Iterator[tuple[int, str]]:
    """(start index, content without the break) of each line, numbered as libyaml numbers them."""
    for match in _LINE_RE.finditer(text):
        if match.end() == match.start() and match.start() == len(text) and text:
            return
        yield match.start(), match.group(1)
