"""A drift report as a readable terminal table (``promotion-bot drift``): plain text, control
characters removed, each line cut to the terminal's width."""

from __future__ import annotations

from typing import Any

from bot.core.drift.model import Behind, Commit, DriftReport, PairDrift
from bot.core.drift.words import VALUE_CHARS, change, pair_title, plain_value, plural, summary_line
from bot.core.markup.markdown import clean_text
from bot.core.promotion.gates import format_time

_NONE = "—"


def render_text(report: DriftReport, *, width: int = 100) -> str:
    """Plain text for ``promotion-bot drift``: no Markdown, no control characters, lines cut
    to ``width`` so a hostile name cannot redraw the terminal or wrap the table."""
    width = max(width, 20)
    lines = [f"Drift in {report.repo}: {summary_line(report)}", "", "What runs where"]
    lines += _text_table(report, width)
    if report.holds:
        lines += ["", "Holds in force", *(f"  {h.summary()}" for h in report.holds)]
    for pair in report.pairs:
        lines += ["", f"{pair_title(pair)}: {plural(pair.count, 'difference')}"]
        lines += [f"  {line}" for line in _text_pair(pair)]
    if report.skipped:
        lines += ["", "Files left alone"]
        lines += [f"  {where}: {why}" for where, why in sorted(report.skipped.items())]
    return "\n".join(_fit(line, width) for line in lines) + "\n"


def _fit(line: str, width: int) -> str:
    """One terminal line: control characters (escape sequences) gone, indent kept, cut."""
    indent = len(line) - len(line.lstrip(" "))
    text = " " * indent + clean_text(line, limit=10_000)
    return text if len(text) <= width else text[: width - 1] + "…"


def _text_table(report: DriftReport, width: int) -> list[str]:
    if not report.running:
        return ["  no apps found"]
    header = ["app", *report.environments]
    rows = [header]
    for app in sorted(report.running):
        versions = report.running[app]
        rows.append([app, *(versions.get(e) or "-" for e in report.environments)])
    cap = max(6, (width - 2 - 2 * len(header)) // len(header))
    sizes = [min(cap, max(len(clean_text(r[i])) for r in rows)) for i in range(len(header))]
    return ["  " + "  ".join(_cell(r[i], sizes[i]) for i in range(len(header))) for r in rows]


def _cell(value: str, size: int) -> str:
    text = clean_text(value, limit=size)
    return text.ljust(size)


def _text_pair(pair: PairDrift) -> list[str]:
    lines = [_text_behind("behind", b) for b in pair.behind]
    lines += [_text_behind("ahead", b) for b in pair.ahead]
    for d in pair.values:
        where = d.file + (f" ({d.document})" if d.document else "")
        lines.append(f"value   {where} {d.path}: {change(d, _show_text)}")
    lines += [f"only in {pair.upstream}: {f}" for f in pair.only_upstream]
    lines += [f"only in {pair.environment}: {f}" for f in pair.only_here]
    lines += [f"text differs: {f}" for f in pair.text_differs]
    lines += [_text_commit("commit only here", c) for c in pair.commits_ahead]
    lines += [_text_commit(f"commit only in {pair.upstream}", c) for c in pair.commits_behind]
    lines += [_text_commit("direct change", c) for c in pair.direct]
    return lines or ["in sync"]


def _show_text(value: Any) -> str:
    return clean_text(plain_value(value), limit=VALUE_CHARS)


def _text_behind(label: str, b: Behind) -> str:
    since = f", since {format_time(b.since)}" if b.since else ""
    pull = f" #{b.pull}" if b.pull is not None else ""
    detail = f": {b.detail}" if b.detail and b.detail != pull.strip() else ""
    return (
        f"{label:<7} {b.app} {b.version} (running {b.running or 'nothing'}, {b.kind}{since}) "
        f"{b.status}{detail}{pull}"
    )


def _text_commit(label: str, c: Commit) -> str:
    when = f" {format_time(c.at)}" if c.at else ""
    return f"{label}: {c.sha[:7]} {c.author}{when}: {c.message.split(chr(10), 1)[0]}"
