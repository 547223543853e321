"""YAML held in a literal block scalar (Argo CD's ``helm.values: |``), read and edited in place.

The block's value is its source lines less one indentation, so each character of the value has
one place in the file. The value is parsed on its own, scanned by the other rules, and its
nodes' marks are then pointed at those places: every later step (spans, splices, line numbers)
works on the file's text as for any other scalar, and the edit changes only the tag characters,
indentation and all. A block with an explicit indentation indicator, another style, or lines
that do not map is left alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.files.sites import Embedded, ImageSite
from bot.core.files.yamlnodes import (
    Parsed,
    YamlEditError,
    format_path,
    mapping_value,
    parse_yaml,
    walk_all,
    yaml_lines,
)


@dataclass(frozen=True)
class LiteralBlock:
    """Where each line of a literal block scalar's value starts, in the value and in the source
    (past the block's indentation), and the source line it is on (from 0)."""

    value_starts: tuple[int, ...]
    source_starts: tuple[int, ...]
    lines: tuple[int, ...]
    indent: int

    def place(self, index: int) -> tuple[int, int, int]:
        """(source index, line, column) of the value's character at ``index``."""
        k = max(bisect_right(self.value_starts, index) - 1, 0)
        shift = index - self.value_starts[k]
        return self.source_starts[k] + shift, self.lines[k], self.indent + shift


# A literal block header after any anchor or tag: ``|`` with an optional chomping indicator.
_LITERAL_HEADER_RE = re.compile(r"(?:[&!]\S*[ \t]+)*\|[+-]?[ \t]*(?:#[^\r\n]*)?(?=[\r\n])")


def literal_block(text: str, node: ScalarNode, offset: int) -> LiteralBlock | None:
    """The lines of a ``|`` block scalar whose value is its source lines less one indentation,
    or None (another style, an explicit indentation indicator, or lines that do not map)."""
    start, end = node.start_mark.index + offset, node.end_mark.index + offset
    header = _LITERAL_HEADER_RE.match(text, start, end)
    if node.style != "|" or header is None:
        return None
    lines = list(yaml_lines(text, header.end(), end))[1:]  # the header's own line break first
    first = next((line for _, line in lines if line.strip(" ")), "")
    indent = len(first) - len(first.lstrip(" "))
    value_starts, source_starts, numbers, rebuilt = [], [], [], []
    cursor = 0
    for number, (at, line) in enumerate(lines, start=node.start_mark.line + 1):
        value_starts.append(cursor)
        source_starts.append(at + indent)
        numbers.append(number)
        rebuilt.append(line[indent:])
        cursor += len(rebuilt[-1]) + 1
    if not indent or "\n".join(rebuilt).rstrip("\n") != node.value.rstrip("\n"):
        return None
    return LiteralBlock(tuple(value_starts), tuple(source_starts), tuple(numbers), indent)


def relocate(roots: Iterable[Node], place: Callable[[int], tuple[int, int, int]]) -> None:
    """Point every node's marks through ``place`` (index -> index, line, column)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for attr in ("start_mark", "end_mark"):
            mark = getattr(node, attr)
            index, line, column = place(mark.index)
            setattr(node, attr, yaml.error.Mark(mark.name, index, line, column, None, 0))
        if isinstance(node, MappingNode):
            stack += (part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            stack += node.value


Scan = Callable[[Parsed], list[ImageSite]]


def helm_values_sites(parsed: Parsed, scan: Scan) -> Iterator[ImageSite]:
    """The sites ``scan`` finds in every ``helm.values`` literal block string, with paths below
    it (``spec.source.helm.values.image.tag``) and the file's line numbers."""
    if "values" not in parsed.text:
        return
    seen: set[int] = set()  # an aliased block is read once, at its anchor
    for doc, node, path in walk_all(parsed):
        block = mapping_value(mapping_value(node, "helm"), "values")
        if isinstance(block, ScalarNode) and id(block) not in seen:
            seen.add(id(block))
            where = format_path((*path, "helm", "values"), doc)
            yield from _block_sites(parsed, block, where, scan)


def _block_sites(parsed: Parsed, block: ScalarNode, where: str, scan: Scan) -> list[ImageSite]:
    lines = literal_block(parsed.text, block, parsed.offset)
    if lines is None:
        return []
    try:
        inner = parse_yaml(block.value, parsed.file)
    except YamlEditError:
        return []  # a string that is not YAML (a template) holds no reference we can edit
    sites = scan(inner)  # before relocating: marker comments are read against the inner text

    def place(index: int) -> tuple[int, int, int]:
        at, line, column = lines.place(index + inner.offset)
        return at - parsed.offset, line, column

    relocate(inner.roots, place)
    within = Embedded(block, inner)
    found = []
    for site in sites:
        fields = tuple(replace(f, path=f"{where}.{f.path}") for f in site.fields)
        line = fields[0].node.start_mark.line + 1
        found.append(replace(site, path=fields[0].path, line=line, fields=fields, within=within))
    return found
