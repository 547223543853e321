"""Reading ticks back from the drift-report issue: each sync the bot offers is a checkbox whose
key sits in a hidden HTML comment, so ticks are read by key, not by wording, and a re-render
keeps the ticks a person made."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from bot.core.markup.metadata import MAX_BODY_CHARS

_SYNC = "sync:"  # the prefix of ``Behind.key``: the only keys the bot writes into the issue
# A key names an app, an environment and a version; percent-encoded, a character may take 12
# (a 4-byte UTF-8 one), so a key of names of a few dozen characters each exceeds 600 (hypothesis
# found one: the box was written and never read back). The body itself is bounded.
_KEY_CHARS = 8192
_BOX = re.compile(r"[-*+][ \t]+\[([ xX])\][ \t]")


def encode_key(key: str) -> str:
    """Percent-encoded: no space, ``<``, ``>`` or ``!``, so no name can end the comment."""
    return quote(key, safe=":", errors="surrogatepass")


def ticked_keys(body: str) -> frozenset[str]:
    """The keys of the boxes ticked in ``body`` as a person left it.

    Only a ticked list item ending in the bot's hidden ``<!-- sync:... -->`` comment counts;
    the line's wording is ignored. Anyone can type such a line, so callers act only on keys the
    current report offers. Linear in the body, which is cut at the size GitHub allows.
    """
    return frozenset(key for key, ticked in box_keys(body).items() if ticked)


def box_keys(body: str) -> dict[str, bool]:
    """The key of every box in ``body`` (ticked or not) -> whether it is ticked: the items the
    bot offered, when ``body`` is what the bot wrote."""
    found: dict[str, bool] = {}
    for line in body[:MAX_BODY_CHARS].splitlines():
        box = _box(line)
        if box is not None:
            found[box[0]] = box[1]
    return found


def untick(body: str, keys: frozenset[str]) -> str:
    """``body`` with the boxes of ``keys`` unticked (a tick the bot refused), else unchanged."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        box = _box(line)
        if box is not None and box[1] and box[0] in keys:
            start = line.index("[", line.index(line.strip()[0]))
            lines[index] = line[:start] + "[ ]" + line[start + 3 :]
    return "\n".join(lines)


def _box(line: str) -> tuple[str, bool] | None:
    text = line.strip()
    matched = _BOX.match(text)
    if not text.endswith("-->") or matched is None:
        return None
    start = text.rfind("<!--")
    token = text[start + 4 : -3].strip() if start >= 0 else ""
    if not token.startswith(_SYNC) or len(token) > _KEY_CHARS or any(c.isspace() for c in token):
        return None
    return unquote(token, errors="surrogatepass"), matched.group(1) != " "
