"""The review comment on a promotion PR: drift warnings and the meaningful diff.

The bot posts one such comment per PR and edits it in place; the hidden metadata (kind
``review-comment``) is how it finds the comment again. Values that look secret are shown as
"(hidden)"; secret findings name a location only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.markup.markdown import BODY_LIMIT, Section, assemble, escape_md
from bot.core.markup.metadata import Meta, embed
from bot.core.review.diff import ABSENT, ImageDelta, MeaningfulDiff, ValueDelta
from bot.core.review.drift import DriftWarning

_VALUE_LIMIT = 80


def render_review_comment(
    *,
    app: str,
    environment: str,
    diff: MeaningfulDiff,
    warnings: Sequence[DriftWarning],
    version: str = "",
    skipped: Mapping[str, str] | None = None,
    limit: int = BODY_LIMIT,
) -> str:
    """One Markdown comment: a summary line, warnings, the files not reviewed and why, image
    changes, value changes, files."""
    sections = [
        Section(_summary(app, environment, diff, warnings), 90),
        Section(_warnings(warnings), 80),
        Section(_skipped(skipped or {}), 75),
        Section(_images(diff.images), 70),
        Section(_files(diff), 60),
        Section(_values(diff.values), 50),
    ]
    meta = Meta(kind="review-comment", app=app, environment=environment, version=version)
    return assemble(sections, footer=embed(meta), limit=limit)


def _summary(
    app: str, environment: str, diff: MeaningfulDiff, warnings: Sequence[DriftWarning]
) -> str:
    head = f"### Promotion review: {escape_md(app)} in {escape_md(environment)}"
    if warnings:
        noun = "warning" if len(warnings) == 1 else "warnings"
        verdict = f"⚠️ {len(warnings)} {noun}."
    else:
        verdict = "✅ No drift warnings."
    if diff.empty:
        verdict += " This PR changes nothing meaningful."
    return f"{head}\n\n{verdict}"


def _warnings(warnings: Sequence[DriftWarning]) -> str:
    if not warnings:
        return ""
    lines = [f"- **{w.kind}**: {escape_md(w.message, limit=1000)}" for w in warnings]
    return "\n".join(["#### Warnings", *lines])


def _skipped(skipped: Mapping[str, str]) -> str:
    if not skipped:
        return ""
    lines = [f"- {escape_md(name)}: {escape_md(why)}" for name, why in sorted(skipped.items())]
    return "\n".join(["#### Not reviewed", *lines])


def _images(images: Sequence[ImageDelta]) -> str:
    if not images:
        return ""
    rows = ["| file | path | image | from | to |", "| --- | --- | --- | --- | --- |"]
    rows += [
        "| "
        + " | ".join(
            (
                escape_md(d.file),
                escape_md(d.path),
                escape_md(d.repository),
                _version(d.old_tag, d.old_digest),
                _version(d.new_tag, d.new_digest),
            )
        )
        + " |"
        for d in images
    ]
    return "\n".join(["#### Images", *rows])


def _version(tag: str | None, digest: str | None) -> str:
    text = escape_md(tag) if tag else "(none)"
    return f"{text} ({escape_md(digest[:19])}…)" if digest else text


def _values(values: Sequence[ValueDelta]) -> str:
    if not values:
        return ""
    lines = []
    for d in values:
        where = escape_md(d.file) + (f" ({escape_md(d.document)})" if d.document else "")
        change = "changed (value hidden)" if d.sensitive else f"{_show(d.old)} → {_show(d.new)}"
        lines.append(f"- {where} {escape_md(d.path)}: {change}")
    return "\n".join(["#### Other value changes", *lines])


def _files(diff: MeaningfulDiff) -> str:
    groups = (
        ("added", diff.files_added),
        ("removed", diff.files_removed),
        ("changed, compared as text", diff.text_changed),
    )
    lines = [f"- {escape_md(f)} ({label})" for label, files in groups for f in files]
    return "\n".join(["#### Files", *lines]) if lines else ""


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str) and value:
        return escape_md(value, limit=_VALUE_LIMIT)
    return escape_md(json.dumps(value, default=str), limit=_VALUE_LIMIT)
