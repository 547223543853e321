"""The help text and usage lines of the slash commands (see commands.py).

``HELP`` is the generic text, for replies with no repository at hand; the service that answers
``/help`` can call ``render_help`` with a note per command (who may use it in that repository).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.markup.markdown import escape_md

USAGE = {
    "promote": "/promote [APP] [VERSION] [to ENV]",
    "hold": "/hold [[APP] in ENV] [REASON]",
    "unhold": "/unhold [[APP] in ENV]",
    "rollback": "/rollback [APP] [to VERSION] [in ENV]",
    "drift": "/drift",
    "help": "/help",
}
_HELP_LINES = {
    "promote": "`/promote [APP] [VERSION] [to ENV]`: promote now, or a given version; "
    "also `/promote APP to ENV VERSION`",
    "hold": "`/hold [REASON]`: stop updating this PR until `/unhold`; "
    "`/hold APP in ENV [REASON]` holds that lane, `/hold in ENV [REASON]` the whole environment",
    "unhold": "`/unhold`, `/unhold APP in ENV`, `/unhold in ENV`: resume updates",
    "rollback": "`/rollback [APP] [to VERSION] [in ENV]`: open a PR back to the previous "
    "or a given version",
    "drift": "`/drift`: recompute the drift review comment (on an issue: audit drift now)",
    "help": "`/help`: this message",
}


def render_help(notes: Mapping[str, str] | None = None) -> str:
    """The help text; ``notes`` adds a remark per command word (e.g. who may use it), escaped."""
    notes = notes or {}
    lines = [
        f"- {text}" + (f" ({escape_md(notes[word])})" if notes.get(word) else "")
        for word, text in _HELP_LINES.items()
    ]
    head = "Promotion Bot commands (one per comment, at the start of a line):"
    tail = "`/promotion-bot COMMAND ...` works too."
    return "\n".join([head, "", *lines, "", tail])


HELP = render_help()
