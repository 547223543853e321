"""A drift report as JSON (``promotion-bot drift --json``): stable key order, times in UTC,
sensitive values only as ``{"hidden": true}``."""

from __future__ import annotations

from typing import Any

from bot.core.drift.model import Behind, Commit, DriftReport, PairDrift
from bot.core.drift.words import iso, jsonable, summary_line
from bot.core.promotion.holds import Hold
from bot.core.review.diff import ValueDelta


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
        "at": iso(hold.at),
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
        "since": iso(b.since),
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
        "old": hidden if d.sensitive else jsonable(d.old),
        "new": hidden if d.sensitive else jsonable(d.new),
    }


def _json_commit(c: Commit) -> dict[str, Any]:
    return {
        "sha": c.sha,
        "author": c.author,
        "at": iso(c.at),
        "message": c.message,
        "url": c.url,
        "pull": c.pull,
        "promotion": c.promotion,
    }
