"""Markdown as GitHub shows it on a page: bodies, comments, release notes and check summaries.

markdown-it-py parses CommonMark with GitHub's tables and strikethrough, and a newline inside a
paragraph is a line break (as in GitHub comments). Raw HTML is where a body could attack the
page, so it is never passed through as written: each tag is read against ``ALLOWED``, a few
attribute-free tags GitHub also keeps (``<details>``/``<summary>`` among them, ``open`` the one
attribute), and written back in its canonical form; every other tag and all text between tags
is escaped. HTML comments are dropped, as GitHub does not show them: the bot's hidden metadata
lives in one. Links keep markdown-it's own guard (no ``javascript:``, ``vbscript:``, ``file:``
or non-image ``data:`` URLs).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

# A subset of what GitHub's sanitizer keeps, without attributes (which carry the scripts).
ALLOWED = frozenset(
    {"details", "summary", "b", "i", "em", "strong", "code", "kbd", "sub", "sup", "ins", "del"}
    | {"s", "strike", "p", "blockquote", "pre", "ul", "ol", "li", "dl", "dt", "dd", "br", "hr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6"}
)
_VOID = frozenset({"br", "hr"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(\s+open)?\s*/?>")
# A comment, or one run of text that looks like a tag; an unclosed comment runs to the end.
_PIECES = re.compile(r"(<!--.*?(?:-->|\Z)|<[^<>]*>)", re.DOTALL)
_OPEN_TAGS = "open_tags"


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": True}).enable(["table", "strikethrough"])
    md.add_render_rule("html_block", _raw_html)
    md.add_render_rule("html_inline", _raw_html)
    return md


def _raw_html(
    _renderer: Any,
    tokens: Sequence[Token],
    idx: int,
    _options: Any,
    env: MutableMapping[str, Any],
) -> str:
    return _sanitize(tokens[idx].content, env.setdefault(_OPEN_TAGS, []))


def _sanitize(raw: str, open_tags: list[str]) -> str:
    """``raw`` HTML with only ``ALLOWED`` tags kept; ``open_tags`` is the stack of those opened
    so far, so that a closing tag is kept only when it closes one of them."""
    out = []
    for piece in _PIECES.split(raw):
        if piece.startswith("<!--"):
            continue
        tag = _TAG.fullmatch(piece)
        name = tag.group(2).lower() if tag else ""
        if tag is None or name not in ALLOWED or (tag.group(3) and name != "details"):
            out.append(escape(piece))
        elif tag.group(1):
            out.append(_close(name, open_tags) if name in open_tags else escape(piece))
        else:
            out.append(f"<{name}{' open' if tag.group(3) else ''}>")
            if name not in _VOID:
                open_tags.append(name)
    return "".join(out)


def _close(name: str, open_tags: list[str]) -> str:
    """The closing tags down to the innermost open ``name``, popped off the stack."""
    closed = []
    while open_tags:
        top = open_tags.pop()
        closed.append(f"</{top}>")
        if top == name:
            break
    return "".join(closed)


_MARKDOWN = _parser()


def render_markdown(text: str | None) -> str:
    """``text`` as safe HTML in a ``markdown`` block; tags a body left open are closed at its
    end, so one body cannot reach into the rest of the page."""
    env: dict[str, Any] = {}
    body = _MARKDOWN.render(text or "", env)
    unclosed = "".join(f"</{name}>" for name in reversed(env.get(_OPEN_TAGS, [])))
    return f"<div class='markdown'>{body}{unclosed}</div>"
