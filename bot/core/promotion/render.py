"""Promotion PR titles, bodies and commit messages, rendered from plain values.

Bodies are built from sections and trimmed whole, lowest priority first, to stay under GitHub's
size limit; the hidden metadata is always kept. Every user-controlled string is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from bot.core.files.yamledit import Change
from bot.core.markup.markdown import BODY_LIMIT, Section, assemble, clean_text, escape_md
from bot.core.markup.metadata import Meta, embed
from bot.core.promotion.model import Promotion
from bot.core.promotion.sourcetags import DEFAULT_PREFIX, source_tag

# Priorities: higher survives longer when the body must shrink.
_P_SUMMARY = 90
_P_TABLE = 80
_P_WHY = 70
_P_LINKS = 60
_P_SUPERSEDED = 50
_P_DECLINED = 40
_P_CHANGES = 30
_ARROW = "→"


def render_promotion_title(p: Promotion) -> str:
    """``Promote user-service 1.4.0 to staging`` (plain text: titles are not Markdown); a rollback
    says ``Roll back user-service in staging to 1.3.0``."""
    if p.rollback:
        return (
            f"Roll back {clean_text(p.app)} in {clean_text(p.environment)} "
            f"to {clean_text(p.to_tag)}"
        )
    return f"Promote {clean_text(p.app)} {clean_text(p.to_tag)} to {clean_text(p.environment)}"


def render_pull_title(promotions: Sequence[Promotion]) -> str:
    """The title for a PR carrying one or more image promotions of one app and environment."""
    first = _first(promotions)
    if len(promotions) == 1:
        return render_promotion_title(first)
    apps = _names(p.app for p in promotions)
    envs = _names(p.environment for p in promotions)
    return f"Promote {apps} to {envs} ({len(promotions)} images)"


def compare_url(
    web_url: str,
    source_repo: str,
    from_tag: str,
    to_tag: str,
    *,
    tag_prefix: str = DEFAULT_PREFIX,
) -> str:
    """``{web_url}/OWNER/REPO/compare/vFROM...vTO``; ``web_url`` is github.com, GHES or sandbox;
    ``tag_prefix`` is what the source repository's tags put before the version."""
    start = quote(source_tag(from_tag, tag_prefix), safe="")
    end = quote(source_tag(to_tag, tag_prefix), safe="")
    return f"{_repo_url(web_url, source_repo)}/compare/{start}...{end}"


def release_url(
    web_url: str, source_repo: str, tag: str, *, tag_prefix: str = DEFAULT_PREFIX
) -> str:
    """``{web_url}/OWNER/REPO/releases/tag/vTAG``."""
    end = quote(source_tag(tag, tag_prefix), safe="")
    return f"{_repo_url(web_url, source_repo)}/releases/tag/{end}"


def promotion_meta(promotions: Sequence[Promotion], *, declined: Sequence[str] = ()) -> Meta:
    """The hidden metadata for a promotion PR; the first promotion is the PR's main image."""
    first = _first(promotions)
    return Meta(
        kind="promotion-pr",
        app=first.app,
        environment=first.environment,
        version=first.to_tag,
        digest=first.to_digest or "",
        from_=first.from_tag or "",
        superseded=first.superseded,
        policy=first.policy_name,
        declined=tuple(declined),
        by=first.request.by if first.request else "",
        at=first.request.at if first.request else "",
        url=first.request.url if first.request else "",
        rollback=first.rollback,
    )


def render_promotion_body(
    promotions: Sequence[Promotion],
    *,
    changes: Sequence[Change] = (),
    web_url: str | None = None,
    tag_prefix: str = DEFAULT_PREFIX,
    declined: Sequence[str] = (),
    limit: int = BODY_LIMIT,
) -> str:
    """The PR body: summary, table, why, links, superseded and declined versions, file changes.

    Links to the source compare and release notes appear when ``web_url`` is given and the
    promotion names its ``source_repo``.
    """
    _first(promotions)
    sections = [
        Section(_summary(promotions), _P_SUMMARY),
        Section(_requested(promotions), _P_SUMMARY),
        Section(_table(promotions), _P_TABLE),
        Section(_why(promotions), _P_WHY),
        Section(_links(promotions, web_url, tag_prefix), _P_LINKS),
        Section(_superseded(promotions), _P_SUPERSEDED),
        Section(_declined(declined), _P_DECLINED),
        Section(_changes(changes), _P_CHANGES),
    ]
    footer = embed(promotion_meta(promotions, declined=declined))
    return assemble(sections, footer=footer, limit=limit)


def render_commit_message(promotions: Sequence[Promotion], changes: Sequence[Change]) -> str:
    """Subject (the PR title), a blank line, then one line per reason and per file change."""
    lines = [render_pull_title(promotions), ""]
    lines += [
        f"{clean_text(p.policy_name)}: {clean_text(p.reason)}" for p in promotions if p.reason
    ]
    lines += [
        f"- {clean_text(c.file)}:{c.line} {clean_text(c.path)}: "
        f"{clean_text(c.old)} -> {clean_text(c.new)}"
        for c in changes
    ]
    return "\n".join(lines).rstrip() + "\n"


def _first(promotions: Sequence[Promotion]) -> Promotion:
    if not promotions:
        raise ValueError("rendering a promotion needs at least one promotion promotions=0")
    return promotions[0]


def _names(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(clean_text(v) for v in values))


def _summary(promotions: Sequence[Promotion]) -> str:
    if len(promotions) == 1:
        p = promotions[0]
        head = f"Promote **{escape_md(p.app)}** to **{escape_md(p.environment)}**"
        if p.rollback:
            head = f"Roll back **{escape_md(p.app)}** in **{escape_md(p.environment)}**"
        if p.from_tag is None:
            return f"{head}: {escape_md(p.image)} **{escape_md(p.to_tag)}** (new here)."
        move = f"{escape_md(p.from_tag)} {_ARROW} **{escape_md(p.to_tag)}**"
        return f"{head}: {escape_md(p.image)} {move}."
    apps = ", ".join(dict.fromkeys(f"**{escape_md(p.app)}**" for p in promotions))
    envs = ", ".join(dict.fromkeys(f"**{escape_md(p.environment)}**" for p in promotions))
    return f"Promote {len(promotions)} images of {apps} to {envs}."


def _table(promotions: Sequence[Promotion]) -> str:
    rows = [
        "| app | environment | image | from | to | change |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in promotions:
        cells = (
            escape_md(p.app),
            escape_md(p.environment),
            escape_md(p.image),
            _version(p.from_tag, p.from_digest),
            _version(p.to_tag, p.to_digest),
            escape_md(p.change_kind),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _version(tag: str | None, digest: str | None) -> str:
    if tag is None:
        return "(none)"
    if digest:
        return f"{escape_md(tag)} ({escape_md(digest[:19])}…)"
    return escape_md(tag)


def _requested(promotions: Sequence[Promotion]) -> str:
    """Who asked for this PR, where and when: the audit trail of a command."""
    first = _first(promotions)
    request = first.request
    if request is None:
        return ""
    what = "Rollback" if first.rollback else "Promotion"
    link = quote(request.url, safe=":/#?=&%")
    where = f" in [this comment]({link})" if request.url.startswith(("https://", "http://")) else ""
    when = f" at {escape_md(request.at)}" if request.at else ""
    return f"{what} requested by {escape_md('@' + request.by)}{where}{when}."


def _why(promotions: Sequence[Promotion]) -> str:
    lines = ["### Why"]
    for p in promotions:
        policy = f"policy **{escape_md(p.policy_name)}**" if p.policy_name else "the policy"
        reason = escape_md(p.reason, limit=500) if p.reason else "no reason was given"
        lines.append(f"- {escape_md(p.image)}: {policy} allowed it: {reason}")
    return "\n".join(lines)


def _links(promotions: Sequence[Promotion], web_url: str | None, tag_prefix: str) -> str:
    if not web_url or not web_url.startswith(("https://", "http://")):
        return ""
    lines = []
    for p in promotions:
        if not p.source_repo or p.source_repo.count("/") != 1:
            continue
        image = escape_md(p.image)
        if p.from_tag:
            url = compare_url(web_url, p.source_repo, p.from_tag, p.to_tag, tag_prefix=tag_prefix)
            lines.append(
                f"- {image}: [compare {escape_md(p.from_tag)}...{escape_md(p.to_tag)}]({url})"
            )
        url = release_url(web_url, p.source_repo, p.to_tag, tag_prefix=tag_prefix)
        lines.append(f"- {image}: [release notes for {escape_md(p.to_tag)}]({url})")
    return "\n".join(["### Source", *lines]) if lines else ""


def _superseded(promotions: Sequence[Promotion]) -> str:
    lines = [
        f"- {escape_md(p.image)}: replaces unmerged {_list(p.superseded)}"
        for p in promotions
        if p.superseded
    ]
    return "\n".join(["### Superseded", *lines]) if lines else ""


def _declined(declined: Sequence[str]) -> str:
    if not declined:
        return ""
    return (
        "### Declined\n"
        f"These versions were declined and will not be proposed again: {_list(declined)}."
    )


def _changes(changes: Sequence[Change]) -> str:
    if not changes:
        return ""
    lines = [
        f"- {escape_md(c.file)}:{c.line} {escape_md(c.path)}: "
        f"{escape_md(c.old)} {_ARROW} {escape_md(c.new)}"
        for c in changes
    ]
    return "\n".join(["### File changes", *lines])


def _list(values: Sequence[str]) -> str:
    return ", ".join(escape_md(v) for v in values)


def _repo_url(web_url: str, source_repo: str) -> str:
    owner, _, name = source_repo.partition("/")
    return f"{web_url.rstrip('/')}/{quote(owner, safe='')}/{quote(name, safe='')}"
