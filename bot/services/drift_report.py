"""The living drift-report issue: one per config repository, found again by its label and
hidden marker, edited in place, closed when drift reaches zero and reopened when it returns.

A run that finds what the issue already says writes nothing. The boxes a person ticked are
read back from the issue's body before it is rendered again, so they stay ticked.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from bot.core.drift.report import render_issue
from bot.core.drift.schedule import due
from bot.core.drift.ticks import ticked_keys
from bot.core.markup.metadata import extract
from bot.services.drift import audit_repository
from bot.services.workspace import LoadedConfig, Workspace

log = logging.getLogger("bot.services")

DRIFT_LABEL = "promotion-drift"
TITLE = "Drift report"

Published = Literal["opened", "updated", "unchanged", "closed", "reopened", "none"]


async def publish(ws: Workspace, loaded: LoadedConfig) -> tuple[Published, int | None]:
    """Audit ``loaded``'s environments and bring its drift-report issue up to date: what was
    done, and the issue's number (``None`` when there is none: no drift was ever found)."""
    report = await audit_repository(ws, loaded)
    repo = loaded.repo.full_name
    found = await ws.gh.issues.newest_by_bot(repo, label=DRIFT_LABEL)
    issue = found if found is not None and is_report(found.body) else None
    ticked = ticked_keys(issue.body) if issue is not None else frozenset()
    body = render_issue(report, web_url=ws.gh.web_url, ticked=ticked)
    done: Published
    if issue is None:
        if not report.count:
            return "none", None
        number = await ws.gh.issues.open(repo, title=TITLE, body=body, labels=[DRIFT_LABEL])
        done = "opened"
    else:
        number, done = issue.number, "unchanged"
        if issue.body != body:
            await ws.gh.issues.edit(repo, number, title=TITLE, body=body)
            done = "updated"
        if issue.open and not report.count:
            await ws.gh.issues.close(repo, number)
            done = "closed"
        elif not issue.open and report.count:
            await ws.gh.issues.reopen(repo, number)
            done = "reopened"
    log.info("drift report %s repo=%s number=%s drift=%d", done, repo, number, report.count)
    return done, number


def is_report(body: str) -> bool:
    """Whether ``body`` is a drift report's (its hidden marker says so)."""
    meta = extract(body)
    return meta is not None and meta.kind == "drift-report"


async def publish_due(
    ws: Workspace, *, since: datetime, default_schedule: str
) -> list[tuple[str, Published]]:
    """Publish the report of every config of the installation whose schedule (its own, else
    ``default_schedule``) has a slot in ``(since, now]``."""
    now = ws.clock()
    done = []
    for loaded in await ws.configs_of_installation():
        drift = loaded.config.drift
        schedule = drift.schedule or default_schedule
        repo = loaded.repo.full_name
        if drift.report and due(schedule, since=since, now=now, key=repo):
            outcome, _ = await publish(ws, loaded)
            done.append((repo, outcome))
    return done
