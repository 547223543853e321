"""A box ticked in the drift-report issue: the sync PR it offers, as ``/promote`` would open it.

The ticker's permission is checked as for ``/promote`` (the same command runs, as them). Only
boxes the bot itself offered count: the key must be a box of the body before the edit. A tick
that is refused is unticked again, and the reply on the issue says why.
"""

from __future__ import annotations

import logging

from bot.core.drift.ticks import box_keys, ticked_keys, untick
from bot.core.inputs.commands import Promote
from bot.core.inputs.events import IssueEdited
from bot.services.commands import Asked, carry_out, config_at
from bot.services.drift_report import TITLE, is_report
from bot.services.workspace import Workspace

log = logging.getLogger("bot.services")


async def handle_issue_edited(event: IssueEdited, ws: Workspace) -> None:
    """Open the sync PR of each box newly ticked in the bot's drift report."""
    if event.editor_is_bot or event.editor == ws.gh.bot_login:
        return
    if event.issue_author != ws.gh.bot_login or not is_report(event.old_body):
        return
    offered = box_keys(event.old_body)
    newly = sorted(ticked_keys(event.body) - ticked_keys(event.old_body) & offered.keys())
    if not newly:
        return
    loaded = await config_at(ws, event.repo)
    if loaded is None or loaded.repo.full_name.lower() != event.repo.lower():
        return
    refused = set()
    for key in newly:
        _, app, environment, version = key.split(":", 3)  # a key the bot wrote: "sync:A:E:V"
        command = Promote(app=app, environment=environment, version=version)
        asked = Asked(event.repo, event.number, False, event.editor)
        result = await carry_out(ws, loaded, command, asked)
        if not result.done:
            refused.add(key)
    if refused:
        body = untick(event.body, frozenset(refused))
        await ws.gh.issues.edit(event.repo, event.number, title=TITLE, body=body)
        log.info("unticked refused syncs repo=%s keys=%s", event.repo, ",".join(sorted(refused)))
