"""Holds: a lane (one app in one environment) or a whole environment that automation leaves alone.

A hold lives on GitHub, not in the bot: it is an open issue the bot's account opened in the
repository that holds the promotion config, labelled ``promotion-hold``, whose hidden metadata
names the app (none for a whole environment), the environment, who placed it, when and why.
Closing the issue lifts the hold, so a hold survives restarts, redeploys and a second replica,
and people see and search it like any issue. The functions here build and read those issues.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.markup.markdown import clean_text, escape_md
from bot.core.markup.metadata import Meta, embed, extract
from bot.core.promotion.gates import GateCheck, format_time

HOLD_LABEL = "promotion-hold"
HELD_LABEL = "promotion-held"  # on the open promotion PRs a hold stops
_META_REASON_CHARS = 300


@dataclass(frozen=True)
class Hold:
    """One hold; ``app`` is ``None`` when the whole environment is held ("stop the line")."""

    environment: str
    app: str | None
    by: str
    at: datetime | None
    reason: str = ""
    rollback: bool = False  # placed by a /rollback, so the bad version is not promoted again
    number: int | None = None  # the issue that records it

    @property
    def what(self) -> str:
        """``api in prod`` or ``every app in prod``, for titles and replies."""
        return f"{self.app or 'every app'} in {self.environment}"

    def covers(self, app: str, environment: str) -> bool:
        return self.environment == environment and self.app in (None, app)

    def summary(self) -> str:
        """Who held what, when and why, as plain text (a check run's reason escapes it)."""
        when = f" since {format_time(self.at)}" if self.at else ""
        why = f": {clean_text(self.reason, limit=300)}" if self.reason else ""
        return f"{self.what} is held by @{self.by}{when}{why}"

    def describe(self) -> str:
        """``summary`` as Markdown safe to post: user text escaped, nobody pinged."""
        return escape_md(self.summary(), limit=500)


def hold_title(hold: Hold) -> str:
    return f"Promotion hold: {hold.what}"


def hold_body(hold: Hold, *, url: str = "") -> str:
    """The issue body: what is held and how to lift it, then the hidden metadata."""
    where = f" ([comment]({url}))" if url else ""
    lines = [
        f"{hold.describe()}{where}.",
        "",
        "Promotion Bot opens and updates no promotion PR for "
        f"{escape_md(hold.what)} while this issue is open.",
        f"Comment `/unhold {'' if hold.app is None else escape_md(hold.app) + ' '}"
        f"in {escape_md(hold.environment)}` (or close this issue) to lift it.",
        "",
        embed(
            Meta(
                kind="hold",
                app=hold.app or "",
                environment=hold.environment,
                by=hold.by,
                at=hold.at.isoformat() if hold.at else "",
                url=url,
                reason=hold.reason[:_META_REASON_CHARS],
                rollback=hold.rollback,
            )
        ),
    ]
    return "\n".join(lines)


def hold_of(body: str, number: int) -> Hold | None:
    """The hold an issue written by the bot records, or ``None``."""
    meta = extract(body)
    if meta is None or meta.kind != "hold" or not meta.environment or not meta.by:
        return None
    try:
        at = datetime.fromisoformat(meta.at) if meta.at else None
    except ValueError:
        at = None
    return Hold(
        meta.environment,
        meta.app or None,
        meta.by,
        at,
        meta.reason,
        rollback=meta.rollback,
        number=number,
    )


def holding(holds: Iterable[Hold], app: str, environment: str) -> Hold | None:
    """The hold that stops ``app`` in ``environment``: the environment's own first."""
    found = [h for h in holds if h.covers(app, environment)]
    found.sort(key=lambda h: h.app is not None)
    return found[0] if found else None


def hold_check(hold: Hold | None, environment: str) -> GateCheck:
    """The ``hold`` gate of the promotion-policy check run."""
    if hold is None:
        return GateCheck("hold", True, f"nothing is held in {environment}")
    return GateCheck("hold", False, hold.summary())
