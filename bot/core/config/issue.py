"""The issue the bot keeps open while the promotion config is invalid: one row per located error."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.config.load import ConfigIssue
from bot.core.markup.markdown import Section, assemble, escape_md
from bot.core.markup.metadata import Meta, embed

CONFIG_ISSUE_TITLE = "Promotion config is invalid"
_MAX_ROWS = 200


def render_config_issue(errors: Sequence[ConfigIssue], *, commit: str) -> str:
    """The issue body: what is wrong where, and that promotions wait until it is fixed."""
    intro = (
        f"The promotion config at commit `{escape_md(commit[:12])}` has "
        f"{len(errors)} error{'s' if len(errors) != 1 else ''}. Promotions use the last valid "
        "config until it is fixed; this issue closes itself then."
    )
    rows = ["| File | Line | Field | Problem |", "| --- | ---: | --- | --- |"]
    rows += [
        f"| {escape_md(e.file)} | {e.line} | {escape_md(e.field or '(document)')} | "
        f"{escape_md(e.message, limit=500)} |"
        for e in errors[:_MAX_ROWS]
    ]
    if len(errors) > _MAX_ROWS:
        rows.append(f"\n_{len(errors) - _MAX_ROWS} more errors not shown._")
    sections = [Section(intro, 90), Section("\n".join(rows), 80)]
    return assemble(sections, footer=embed(Meta(kind="config-error")))
