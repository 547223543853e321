"""Reading Terraform and OpenTofu files (``.tf``, ``.tfvars``) with python-hcl2's grammar.

python-hcl2's Lark parser keeps every token's position, so each plain string literal
(``"1.2.3"``: no interpolation, no escape) is found with its exact span and its path: the
attribute and block labels over it, then object keys and list indexes
(``variable.api_image_tag.default``, ``services.api.image``, ``images[0]``). Heredocs,
templates (``"${var.x}"``) and comments are never collected, so never edited.

Parsing is bounded like YAML's (``bot.core.files.bounds``), by counts rather than by a clock:
the bytes the bot reads at all, the nesting of brackets, and the tokens fed to the parser (about
12,000 a second here, so the token bound is about two seconds of CPU); the file is refused as
soon as one is passed, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.core.files.bounds import MAX_DEPTH, size_refusal
from bot.core.files.yamlnodes import PathPart, YamlEditError, format_path

MAX_TOKENS = 25_000  # a 600-line tfvars file has about 4,000
_OPENERS = frozenset({"LBRACE", "LSQB", "LPAR", "INTERP_START", "DIRECTIVE_START"})
_CLOSERS = frozenset({"RBRACE", "RSQB", "RPAR"})


class HclEditError(YamlEditError):
    """An HCL text that cannot be read, or an edit that cannot be made byte-exact.

    A ``YamlEditError``: every caller already treats that as "this file cannot be read or
    edited exactly", whatever its format.
    """


@dataclass(frozen=True)
class HclString:
    """A plain string literal: ``start``/``end`` span it with its quotes, ``line`` is 1-based."""

    path: tuple[PathPart, ...]
    value: str
    start: int
    end: int
    line: int

    @property
    def where(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class HclParsed:
    """A parsed text and its plain string literals, in file order."""

    text: str
    file: str
    strings: tuple[HclString, ...]


def parse_hcl(text: str, file: str = "") -> HclParsed:
    """The plain strings of ``text``; HclEditError when it is past a bound or does not parse."""
    tree = _bounded_tree(text, file)
    strings = sorted(_body_strings(text, tree.children[0], ()), key=lambda s: s.start)
    return HclParsed(text, file, tuple(strings))


def _bounded_tree(text: str, file: str) -> Any:
    refused = size_refusal(len(text.encode("utf-8", "surrogatepass")))
    if refused is not None:
        raise HclEditError(f"parsing hcl refused file={file!r}: {refused}")
    # Imported here: the command line's one-file commands start without the parser's cost.
    from hcl2.parser import parser  # noqa: PLC0415
    from lark.exceptions import LarkError  # noqa: PLC0415

    depth = 0
    try:
        # Tokens are fed one at a time, so a bound stops the parse where it is passed.
        interactive = parser().parse_interactive(text + "\n")  # the grammar wants a last newline
        last = None
        for count, token in enumerate(interactive.iter_parse()):
            last = token
            depth += (token.type in _OPENERS) - (token.type in _CLOSERS)
            if depth > MAX_DEPTH:
                raise HclEditError(f"parsing hcl refused file={file!r}: nested over {MAX_DEPTH}")
            if count >= MAX_TOKENS:
                raise HclEditError(f"parsing hcl refused file={file!r}: over {MAX_TOKENS:,} tokens")
        return interactive.feed_eof(last)  # type: ignore[no-untyped-call]
    except LarkError as err:
        line, column = getattr(err, "line", "?"), getattr(err, "column", "?")
        raise HclEditError(f"parsing hcl failed file={file!r} line={line} column={column}") from err


def _body_strings(text: str, body: Any, path: tuple[PathPart, ...]) -> Iterator[HclString]:
    """Attributes (``name = value``) and blocks (``type "label" { ... }``) of a body."""
    for item in _trees(body):
        if item.data == "attribute":
            name = _name(item.children[0])
            if name is not None:
                yield from _strings(text, item.children[-1], (*path, name))
        elif item.data == "block":
            parts = [c for c in _trees(item) if c.data != "new_line_or_comment"]
            labels = [_name(child) for child in parts if child.data != "body"]
            inner = [child for child in parts if child.data == "body"]
            if inner and None not in labels:
                yield from _body_strings(text, inner[0], (*path, *(str(x) for x in labels)))


def _strings(text: str, expression: Any, path: tuple[PathPart, ...]) -> Iterator[HclString]:
    """The plain strings of a value: itself, or those of its object's entries or list items.

    A stack rather than recursion: the depth is bounded, but Python's own stack is shallow.
    """
    stack = [(expression, path)]
    while stack:
        node, where = stack.pop()
        term = _single_term(node)
        if term is None:
            continue
        if term.data == "string":
            found = _plain_string(term, where)
            if found is not None:
                yield found
        elif term.data == "object":
            for element in _trees(term):
                if element.data == "object_elem":
                    key = _key_name(text, element.children[0])
                    stack.append((element.children[-1], (*where, key)))
        elif term.data == "tuple":
            items = [child for child in _trees(term) if child.data != "new_line_or_comment"]
            stack += [(item, (*where, index)) for index, item in enumerate(items)]


def _single_term(node: Any) -> Any:
    """The string, object or tuple an ``expr_term`` wraps; ``None`` for anything else."""
    if getattr(node, "data", None) != "expr_term" or len(node.children) != 1:
        return None
    inner = node.children[0]
    return inner if getattr(inner, "data", None) in ("string", "object", "tuple") else None


def _plain_string(term: Any, path: tuple[PathPart, ...]) -> HclString | None:
    """A string of one run of plain characters (or none); templates and escapes are not."""
    first, *parts, last = term.children
    if len(parts) > 1:
        return None
    value = ""
    if parts:
        token = parts[0].children[0]
        if getattr(token, "type", None) != "STRING_CHARS" or "\\" in token:
            return None
        value = str(token)
    return HclString(path, value, first.start_pos, last.end_pos, first.line)


def _name(node: Any) -> str | None:
    """An attribute name, block type or label, or object key: a bare word or a plain string."""
    if getattr(node, "data", None) == "string":
        found = _plain_string(node, ())
        return None if found is None else found.value
    if getattr(node, "data", None) in ("identifier", "keyword", "literal_value"):
        return str(node.children[0])
    return None


def _key_name(text: str, key: Any) -> str:
    """An object key: ``name``, ``"name"`` or a keyword (``in``); a computed key
    (``(local.name)``) is named by its source text."""
    inner = key.children[0]
    if getattr(inner, "data", None) == "expr_term" and len(inner.children) == 1:
        inner = inner.children[0]
    name = _name(inner)
    return name if name is not None else text[key.meta.start_pos : key.meta.end_pos]


def _trees(node: Any) -> list[Any]:
    """The child trees of ``node`` (tokens such as ``{`` and ``=`` left out)."""
    return [child for child in node.children if hasattr(child, "data")]
