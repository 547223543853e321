"""A drift audit rendered three ways: the living issue, the terminal table and JSON.

The issue is the one place people see drift and ask for a fix: each sync the bot can open is a
checkbox whose key sits in a hidden HTML comment, so ``ticked_keys`` reads ticks back by key, not
by wording, and a re-render keeps the ticks a person made. Every name, version and value comes
from repositories and is escaped for where it lands (Markdown, HTML, Mermaid, a terminal). Values
the diff marks sensitive never leave as text: "changed (value hidden)" or ``{"hidden": true}``.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, unquote

from bot.core.drift.model import Behind, Commit, DriftReport, PairDrift
from bot.core.markup.markdown import Section, assemble, clean_text, escape_md
from bot.core.markup.metadata import MAX_BODY_CHARS, Meta, embed
from bot.core.promotion.gates import format_time
from bot.core.promotion.holds import Hold
from bot.core.review.diff import ABSENT, ValueDelta

ISSUE_LIMIT = 65_536  # GitHub refuses issue bodies longer than this
HIDDEN = "changed (value hidden)"
_SYNC = "sync:"  # the prefix of ``Behind.key``: the only keys the bot writes into the issue
_KEY_CHARS = 600
_VALUE_CHARS = 80
_JSON_DEPTH = 64
_NONE = "—"
_BOX = re.compile(r"[-*+][ \t]+\[([ xX])\][ \t]")
_HEX = re.compile(r"[0-9a-fA-F]{4,64}")
_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/:")
_HTML_PUNCT = frozenset("\\`*_{}[]()#+!|~\"'")
_UNLIMITED = 2**62


# ---------------------------------------------------------------------------------------------
# The issue


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


def summary_line(report: DriftReport) -> str:
    """``5 differences between 2 environment pairs`` or ``No drift``: the issue's headline."""
    if report.count == 0:
        return "No drift"
    pairs = sum(1 for pair in report.pairs if pair.count)
    return f"{_plural(report.count, 'difference')} between {_plural(pairs, 'environment pair')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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
        label = f'|"{_plural(pair.count, "difference")}"|' if pair.count else ""
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


def _pair_title(pair: PairDrift) -> str:
    return f"{pair.upstream} → {pair.environment}"


def _pair_lines(pairs: Sequence[PairDrift]) -> str:
    """One line per pair: what differs, counted."""
    if not pairs:
        return ""
    lines = [f"- {escape_md(_pair_title(p))}: {_counts(p)}" for p in pairs]
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
    title = _html_text(_pair_title(pair))
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
    summary = f"{title}: {_plural(pair.count, 'difference')}"
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
        lines.append(f"- {where} {escape_md(d.path)}: {_change(d, _show_md)}")
    return "\n".join(lines)


def _change(delta: ValueDelta, show: Callable[[Any], str]) -> str:
    """The one place a value becomes text; a sensitive delta never reaches ``show``."""
    if delta.sensitive:
        return HIDDEN
    return f"{show(delta.old)} → {show(delta.new)}"


def _show_md(value: Any) -> str:
    return escape_md(_plain_value(value), limit=_VALUE_CHARS)


def _plain_value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str) and value:
        return value
    try:
        return json.dumps(_jsonable(value), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


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
        lines.append(f"- [{box}] {text}{why} <!-- {_encode_key(item.key)} -->")
    return "\n".join(lines)


def _skipped(skipped: Mapping[str, str]) -> str:
    if not skipped:
        return ""
    lines = [f"- {escape_md(where)}: {escape_md(why)}" for where, why in sorted(skipped.items())]
    return "\n".join(["### Files left alone", *lines])


# ---------------------------------------------------------------------------------------------
# Reading ticks back


def _encode_key(key: str) -> str:
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


# ---------------------------------------------------------------------------------------------
# The terminal


def render_text(report: DriftReport, *, width: int = 100) -> str:
    """Plain text for ``promotion-bot drift``: no Markdown, no control characters, lines cut
    to ``width`` so a hostile name cannot redraw the terminal or wrap the table."""
    width = max(width, 20)
    lines = [f"Drift in {report.repo}: {summary_line(report)}", "", "What runs where"]
    lines += _text_table(report, width)
    if report.holds:
        lines += ["", "Holds in force", *(f"  {h.summary()}" for h in report.holds)]
    for pair in report.pairs:
        lines += ["", f"{_pair_title(pair)}: {_plural(pair.count, 'difference')}"]
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
        lines.append(f"value   {where} {d.path}: {_change(d, _show_text)}")
    lines += [f"only in {pair.upstream}: {f}" for f in pair.only_upstream]
    lines += [f"only in {pair.environment}: {f}" for f in pair.only_here]
    lines += [f"text differs: {f}" for f in pair.text_differs]
    lines += [_text_commit("commit only here", c) for c in pair.commits_ahead]
    lines += [_text_commit(f"commit only in {pair.upstream}", c) for c in pair.commits_behind]
    lines += [_text_commit("direct change", c) for c in pair.direct]
    return lines or ["in sync"]


def _show_text(value: Any) -> str:
    return clean_text(_plain_value(value), limit=_VALUE_CHARS)


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


# ---------------------------------------------------------------------------------------------
# JSON


def report_json(report: DriftReport) -> dict[str, Any]:
    """The whole report as JSON-ready data in a fixed key order, times ISO 8601 in UTC; a
    sensitive value is ``{"hidden": true}``, never its text."""
    return {
        "repo": report.repo,
        "environments": list(report.environments),
        "count": report.count,
        "summary": summary_line(report),
        "running": {
            app: {env: report.running[app].get(env) for env in _envs(report, app)}
            for app in sorted(report.running)
        },
        "holds": [_json_hold(h) for h in report.holds],
        "pairs": [_json_pair(p) for p in report.pairs],
        "syncs": [item.key for item in report.syncs()],
        "skipped": dict(sorted(report.skipped.items())),
    }


def _envs(report: DriftReport, app: str) -> list[str]:
    known = report.running[app]
    extra = sorted(set(known) - set(report.environments))
    return [*(e for e in report.environments if e in known), *extra]


def _json_hold(hold: Hold) -> dict[str, Any]:
    return {
        "environment": hold.environment,
        "app": hold.app,
        "by": hold.by,
        "at": _iso(hold.at),
        "reason": hold.reason,
        "rollback": hold.rollback,
        "issue": hold.number,
    }


def _json_pair(pair: PairDrift) -> dict[str, Any]:
    return {
        "upstream": pair.upstream,
        "environment": pair.environment,
        "count": pair.count,
        "behind": [_json_behind(b) for b in pair.behind],
        "ahead": [_json_behind(b) for b in pair.ahead],
        "values": [_json_value(d) for d in pair.values],
        "only_upstream": list(pair.only_upstream),
        "only_here": list(pair.only_here),
        "text_differs": list(pair.text_differs),
        "commits_ahead": [_json_commit(c) for c in pair.commits_ahead],
        "commits_behind": [_json_commit(c) for c in pair.commits_behind],
        "direct": [_json_commit(c) for c in pair.direct],
    }


def _json_behind(b: Behind) -> dict[str, Any]:
    return {
        "key": b.key,
        "app": b.app,
        "image": b.image,
        "upstream": b.upstream,
        "environment": b.environment,
        "version": b.version,
        "running": b.running,
        "kind": b.kind,
        "since": _iso(b.since),
        "status": b.status,
        "detail": b.detail,
        "pull": b.pull,
    }


def _json_value(d: ValueDelta) -> dict[str, Any]:
    hidden = {"hidden": True}
    return {
        "file": d.file,
        "document": d.document,
        "path": d.path,
        "old": hidden if d.sensitive else _jsonable(d.old),
        "new": hidden if d.sensitive else _jsonable(d.new),
    }


def _json_commit(c: Commit) -> dict[str, Any]:
    return {
        "sha": c.sha,
        "author": c.author,
        "at": _iso(c.at),
        "message": c.message,
        "url": c.url,
        "pull": c.pull,
        "promotion": c.promotion,
    }


def _iso(value: datetime | None) -> str | None:
    """``2026-11-22T18:04:00Z``; a naive time is taken as UTC, as ``format_time`` does."""
    if value is None:
        return None
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A YAML value as JSON: absent is ``{"absent": true}``, times are ISO strings, anything
    else unknown is its ``str``; nesting is cut at a depth no real file reaches."""
    if value is ABSENT:
        return {"absent": True}
    if depth > _JSON_DEPTH:
        return "…"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    return str(value)
