"""Safe Markdown building blocks: escaping user-controlled text and size-capped assembly.

Every string that comes from outside the bot (tags, file paths, app names, YAML values, free-text
reasons) goes through ``escape_md`` before it reaches a PR body, comment or check run, so a
hostile tag cannot break a table, open an HTML comment, or ping a user or team.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# GitHub rejects issue/PR/comment bodies above 65,536 characters; keep a margin so a caller
# appending a line cannot push us over.
BODY_LIMIT = 65_000
# One field never needs more than this in a comment; longer values are cut with an ellipsis.
FIELD_LIMIT = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Characters with Markdown meaning in inline text or tables; escaped with a backslash.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+!|~])")
# Bare URLs and www. hosts would be autolinked; a zero-width space breaks the autolink.
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def clean_text(value: str, *, limit: int = FIELD_LIMIT) -> str:
    """Collapse control characters and line breaks to spaces and cap the length."""
    text = _CONTROL.sub(" ", value).strip()
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def escape_md(value: str, *, limit: int = FIELD_LIMIT) -> str:
    """Render ``value`` as inert inline Markdown text: one line, no markup, no mentions."""
    text = clean_text(value, limit=limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCT.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1)[0] + "&#8203;" + m.group(1)[1:], text)
    # "@&#8203;name" renders as "@name" but GitHub does not treat it as a mention.
    return text.replace("@", "@&#8203;")


@dataclass(frozen=True)
class Section:
    """A block of Markdown that is kept or dropped whole; lower ``priority`` is dropped first."""

    text: str
    priority: int


def assemble(sections: Sequence[Section], *, footer: str, limit: int = BODY_LIMIT) -> str:
    """Join sections in order, dropping whole low-priority ones until the result fits ``limit``.

    ``footer`` (the hidden metadata) is always kept. When sections are dropped a note saying how
    many precedes the footer, so a reader knows the body is incomplete.
    """
    kept = set(range(len(sections)))
    result = _joined(sections, kept, footer)
    for index in sorted(kept, key=lambda i: sections[i].priority):
        if len(result) <= limit:
            break
        kept.discard(index)
        result = _joined(sections, kept, footer)
    return result


def _joined(sections: Sequence[Section], kept: set[int], footer: str) -> str:
    parts = [s.text.rstrip("\n") for i, s in enumerate(sections) if i in kept and s.text.strip()]
    dropped = sum(1 for i, s in enumerate(sections) if i not in kept and s.text.strip())
    if dropped:
        noun = "section" if dropped == 1 else "sections"
        parts.append(f"_{dropped} {noun} omitted to stay under GitHub's size limit._")
    parts.append(footer)
    return "\n\n".join(p for p in parts if p) + "\n"
