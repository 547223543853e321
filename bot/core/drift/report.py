"""A drift audit as the living issue's body (``render_issue``); the terminal table is
``text``, the JSON ``export``, reading ticks back ``ticks``.

The issue is the one place people see drift and ask for a fix: each sync the bot can open is a
checkbox whose key sits in a hidden HTML comment (``ticks``), so a re-render keeps the ticks a
person made. Every name, version and value comes from repositories and is escaped for where it
lands (Markdown, HTML, Mermaid). Values the diff marks sensitive never leave as text: "changed
(value hidden)".
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from bot.core.drift.model import Behind, Commit, DriftReport, PairDrift
from bot.core.drift.ticks import encode_key
from bot.core.drift.words import (
    VALUE_CHARS,
    change,
    pair_title,
    plain_value,
    plural,
    summary_line,
)
from bot.core.markup.markdown import Section, assemble, clean_text, escape_md
from bot.core.markup.metadata import Meta, embed
from bot.core.promotion.gates import format_time
from bot.core.promotion.holds import Hold
from bot.core.review.diff import ValueDelta

ISSUE_LIMIT = 65_536  # GitHub refuses issue bodies longer than this
_NONE = "—"
_HEX = re.compile(r"[0-9a-fA-F]{4,64}")
_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/:")
_HTML_PUNCT = frozenset("\\`*_{}[]()#+!|~\"'")
_UNLIMITED = 2**62


def render_issue(
    report: DriftReport,
    *,
    web_url: str,
    ticked: frozenset[str] = frozenset(),
    json_url: str | None = None,
    limit: int = ISSUE_LIMIT,
) -> str:
    """The drift-report issue body, found again by its hidden marker, never over ``limit``.

    Too long in full, the pairs collapse to one line each and low-priority sections go (the
    picture and table first); still too long, only summary lines and the link to the JSON stay.
    """
    footer = embed(Meta(kind="drift-report", repo=report.repo))
    links = _Links(web_url, report.repo)
    body = assemble(_full(report, links, ticked), footer=footer, limit=_UNLIMITED)
    if len(body) <= limit:
        return body
    for sections in (_collapsed(report, links, ticked, json_url), _minimal(report, json_url)):
        body = assemble(sections, footer=footer, limit=limit)
        if len(body) <= limit:
            return body
    return footer + "\n" if len(footer) < limit else ""


class _Links:
    """URLs on the web host: only http(s) hosts link, so a bad setting shows plain text."""

    def __init__(self, web_url: str, repo: str) -> None:
        self.web_url = web_url
        ok = web_url.startswith(("https://", "http://")) and repo.count("/") == 1
        owner, _, name = repo.partition("/")
        self.base = f"{web_url.rstrip('/')}/{quote(owner, safe='')}/{quote(name, safe='')}"
        self.ok = ok

    def at(self, repo: str) -> _Links:
        """The links of another repository (an environment's own) on the same host."""
        return _Links(self.web_url, repo)

    def issue(self, number: int | None, text: str) -> str:
        if number is None:
            return ""
        return f"[{text}]({self.base}/issues/{number})" if self.ok else text

    def pull(self, number: int | None) -> str:
        if number is None:
            return ""
        return f"[#{number}]({self.base}/pull/{number})" if self.ok else f"#{number}"

    def commit(self, commit: Commit) -> str:
        if not _HEX.fullmatch(commit.sha):
            return escape_md(commit.sha[:12])
        short = f"`{commit.sha[:7]}`"
        if commit.url.startswith(("https://", "http://")):
            return f"[{short}]({_safe_url(commit.url)})"
        return f"[{short}]({self.base}/commit/{commit.sha})" if self.ok else short


def _safe_url(url: str) -> str:
    """A URL that cannot end the Markdown link early or carry spaces and control characters."""
    return quote(clean_text(url, limit=2000), safe=":/?#=&%@+.,;~-_!$*'")


def _full(report: DriftReport, links: _Links, ticked: frozenset[str]) -> list[Section]:
    return [
        Section(_heading(report), 100),
        Section(_where(report), 50),
        Section(_mermaid(report), 40),
        Section(_summary(report), 100),
        Section(_holds(report.holds, links), 90),
        Section("### Environment pairs" if report.pairs else "", 60),
        *(
            Section(_pair_details(pair, links.at(report.repo_of(pair.environment))), 60)
            for pair in report.pairs
        ),
        Section(_syncs(report.syncs(), ticked), 80),
        Section(_skipped(report.skipped), 30),
    ]


def _collapsed(
    report: DriftReport, links: _Links, ticked: frozenset[str], json_url: str | None
) -> list[Section]:
    return [
        Section(_heading(report), 100),
        Section(_where(report), 50),
        Section(_mermaid(report), 40),
        Section(_summary(report), 100),
        Section(_json_link(json_url), 95),
        Section(_holds(report.holds, links), 90),
        Section(_pair_lines(report.pairs), 85),
        Section(_syncs(report.syncs(), ticked), 80),
        Section(_skipped(report.skipped), 30),
    ]


def _minimal(report: DriftReport, json_url: str | None) -> list[Section]:
    lines = _pair_lines(report.pairs)
    return [
        Section(_heading(report), 100),
        Section(_summary(report), 100),
        Section(_json_link(json_url), 95),
        *(Section(line, 50) for line in lines.splitlines()),
    ]


def _heading(report: DriftReport) -> str:
    return f"## Drift report: {escape_md(report.repo)}"


def _summary(report: DriftReport) -> str:
    return f"**{summary_line(report)}**"


def _json_link(json_url: str | None) -> str:
    if not json_url or not json_url.startswith(("https://", "http://")):
        return "_The full report is too long for an issue; run `promotion-bot drift` to see it._"
    link = f"[the whole report as JSON]({_safe_url(json_url)})"
    return f"_The full report is too long for an issue: {link}._"


def _where(report: DriftReport) -> str:
    """Apps by environment, with what each runs."""
    if not report.running:
        return "### What runs where\n\nNo apps found."
    envs = report.environments
    rows = [
        "| app | " + " | ".join(escape_md(e) for e in envs) + " |",
        "| --- |" + " --- |" * len(envs),
    ]
    for app in sorted(report.running):
        versions = report.running[app]
        cells = (escape_md(v) if (v := versions.get(e)) else _NONE for e in envs)
        rows.append(f"| {escape_md(app)} | " + " | ".join(cells) + " |")
    return "\n".join(["### What runs where", "", *rows])


def _mermaid(report: DriftReport) -> str:
    """Environments left to right, each edge labelled with its drift; ids are ours, labels are
    entity-encoded, so no name can end the label, the block or the fence."""
    names = list(dict.fromkeys([*report.environments, *_pair_names(report.pairs)]))
    if len(names) < 2:
        return ""
    ids = {name: f"e{i}" for i, name in enumerate(names)}
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'  {ids[name]}["{_mermaid_label(name)}"]' for name in names]
    for pair in report.pairs:
        label = f'|"{plural(pair.count, "difference")}"|' if pair.count else ""
        lines.append(f"  {ids[pair.upstream]} -->{label} {ids[pair.environment]}")
    return "\n".join([*lines, "```"])


def _pair_names(pairs: Iterable[PairDrift]) -> Iterable[str]:
    for pair in pairs:
        yield pair.upstream
        yield pair.environment


def _mermaid_label(name: str) -> str:
    text = clean_text(name, limit=60)
    return "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in text)


def _holds(holds: Sequence[Hold], links: _Links) -> str:
    if not holds:
        return ""
    lines = ["### Holds in force"]
    for hold in holds:
        issue = links.issue(hold.number, f"#{hold.number}")
        lines.append(f"- {hold.describe()}" + (f" ({issue})" if issue else ""))
    return "\n".join(lines)


def _pair_lines(pairs: Sequence[PairDrift]) -> str:
    """One line per pair: what differs, counted."""
    if not pairs:
        return ""
    lines = [f"- {escape_md(pair_title(p))}: {_counts(p)}" for p in pairs]
    return "\n".join(["### Environment pairs", *lines])


def _counts(pair: PairDrift) -> str:
    parts = [
        (len(pair.behind), "behind"),
        (len(pair.ahead), "ahead"),
        (len(pair.values), "values differ"),
        (len(pair.only_upstream), f"only in {clean_text(pair.upstream, limit=60)}"),
        (len(pair.only_here), f"only in {clean_text(pair.environment, limit=60)}"),
        (len(pair.text_differs), "differ as text"),
        (len(pair.commits_ahead), "commits ahead"),
        (len(pair.commits_behind), "commits behind"),
        (len(pair.direct), "direct changes"),
    ]
    text = ", ".join(f"{n} {escape_md(label)}" for n, label in parts if n)
    return text or "in sync"


def _pair_details(pair: PairDrift, links: _Links) -> str:
    """One pair, collapsible: the summary line shows the count, the body every difference."""
    title = _html_text(pair_title(pair))
    if not pair.count and not pair.commits_behind:
        return f"- {title}: in sync"
    parts = [
        _versions("Versions behind", pair, pair.behind, links),
        _versions("Versions ahead", pair, pair.ahead, links),
        _values(pair.values),
        _files(f"Files only in {escape_md(pair.upstream)}", pair.only_upstream),
        _files(f"Files only in {escape_md(pair.environment)}", pair.only_here),
        _files("Files that differ as text", pair.text_differs),
        _commits("Commits only here (hotfixes not brought back)", pair.commits_ahead, links),
        _commits(f"Commits only in {escape_md(pair.upstream)}", pair.commits_behind, links),
        _commits("Direct changes (no promotion PR)", pair.direct, links),
    ]
    summary = f"{title}: {plural(pair.count, 'difference')}"
    body = "\n\n".join(p for p in parts if p)
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _html_text(value: str) -> str:
    """Text inside an HTML element (``<summary>``): HTML-escaped, Markdown punctuation as
    entities in case a renderer reads it as Markdown, nobody mentioned."""
    text = html.escape(clean_text(value), quote=False)
    text = "".join(f"&#{ord(c)};" if c in _HTML_PUNCT else c for c in text)
    return text.replace("@", "@&#8203;").replace("://", ":&#8203;//")


def _versions(title: str, pair: PairDrift, items: Sequence[Behind], links: _Links) -> str:
    if not items:
        return ""
    up, here = escape_md(pair.upstream), escape_md(pair.environment)
    rows = [
        f"| app | {up} | {here} | kind | since | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    rows += [_version_row(item, links) for item in items]
    return "\n".join([f"**{title}**", "", *rows])


def _version_row(item: Behind, links: _Links) -> str:
    said = item.detail and item.detail != f"#{item.pull}"  # "#12" is the link that follows
    status = item.status + (f": {escape_md(item.detail, limit=300)}" if said else "")
    if item.pull is not None:
        status += f" ({links.pull(item.pull)})"
    cells = (
        escape_md(item.app),
        escape_md(item.version),
        escape_md(item.running) if item.running else _NONE,
        escape_md(item.kind),
        format_time(item.since) if item.since else _NONE,
        status,
    )
    return "| " + " | ".join(cells) + " |"


def _values(values: Sequence[ValueDelta]) -> str:
    if not values:
        return ""
    lines = ["**Values that differ** (upstream → here)", ""]
    for d in values:
        where = escape_md(d.file) + (f" ({escape_md(d.document)})" if d.document else "")
        lines.append(f"- {where} {escape_md(d.path)}: {change(d, _show_md)}")
    return "\n".join(lines)


def _show_md(value: Any) -> str:
    return escape_md(plain_value(value), limit=VALUE_CHARS)


def _files(title: str, files: Sequence[str]) -> str:
    if not files:
        return ""
    return "\n".join([f"**{title}**", "", *(f"- {escape_md(f)}" for f in files)])


def _commits(title: str, commits: Sequence[Commit], links: _Links) -> str:
    if not commits:
        return ""
    lines = [f"**{title}**", ""]
    for c in commits:
        when = f" {format_time(c.at)}" if c.at else ""
        pull = f" ({links.pull(c.pull)})" if c.pull is not None else ""
        message = escape_md(c.message.split("\n", 1)[0])
        lines.append(f"- {links.commit(c)} by {escape_md(c.author)}{when}: {message}{pull}")
    return "\n".join(lines)


def _syncs(items: Sequence[Behind], ticked: frozenset[str]) -> str:
    """The checkboxes: tick one and the bot opens that sync PR; the key is in the comment."""
    if not items:
        return ""
    lines = ["### Fix it", "", "Tick a box to have the bot open that sync PR.", ""]
    for item in items:
        box = "x" if item.key in ticked else " "
        text = (
            f"open a sync PR {escape_md(item.upstream)} -> {escape_md(item.environment)} "
            f"for {escape_md(item.app)} {escape_md(item.version)}"
        )
        why = f" ({item.status}: {escape_md(item.detail)})" if item.detail else f" ({item.status})"
        lines.append(f"- [{box}] {text}{why} <!-- {encode_key(item.key)} -->")
    return "\n".join(lines)


def _skipped(skipped: Mapping[str, str]) -> str:
    if not skipped:
        return ""
    lines = [f"- {escape_md(where)}: {escape_md(why)}" for where, why in sorted(skipped.items())]
    return "\n".join(["### Files left alone", *lines])
