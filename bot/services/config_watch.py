"""The config changed: check it, and keep exactly one issue open while it is invalid.

The issue is found again by its hidden metadata (kind ``config-error``) among the open issues
the bot's account created, edited in place while the errors change and closed once the file
is valid again (or gone).
"""

from __future__ import annotations

import logging

from bot.core.config import DEFAULT_FILE, ConfigError
from bot.core.config.issue import CONFIG_ISSUE_TITLE, render_config_issue
from bot.core.inputs.events import ConfigPushed, InstallationChanged
from bot.core.markup.metadata import extract
from bot.services.conversation_ports import Issue
from bot.services.workspace import Workspace

log = logging.getLogger("bot.services")

ISSUE_LABELS = ("promotion-config",)


async def handle_config_pushed(event: ConfigPushed, ws: Workspace) -> None:
    """Re-validate the config at the pushed commit; open, update or close the error issue."""
    ws.configs.forget_repository(event.installation_id, event.repo)
    tree = await ws.gh.git.tree(event.repo, event.after)
    parsed = await ws.parse_config_at(event.repo, tree) if DEFAULT_FILE in tree.blobs else None
    issues = [i for i in await ws.gh.issues.list_open_by_bot(event.repo) if _is_config_issue(i)]
    if not isinstance(parsed, ConfigError):
        for issue in issues:
            await ws.gh.issues.close(event.repo, issue.number)
            log.info("config valid again, closed issue repo=%s number=%d", event.repo, issue.number)
        return
    body = render_config_issue(parsed.errors, commit=event.after)
    if not issues:
        number = await ws.gh.issues.open(
            event.repo, title=CONFIG_ISSUE_TITLE, body=body, labels=ISSUE_LABELS
        )
        log.info("config invalid, opened issue repo=%s number=%d", event.repo, number)
        return
    first, *extra = issues
    if first.body != body:
        await ws.gh.issues.edit(event.repo, first.number, title=CONFIG_ISSUE_TITLE, body=body)
    for issue in extra:  # a race left two: one is enough
        await ws.gh.issues.close(event.repo, issue.number)


def _is_config_issue(issue: Issue) -> bool:
    meta = extract(issue.body) if issue.by_bot else None
    return meta is not None and meta.kind == "config-error"


async def handle_installation_changed(event: InstallationChanged, ws: Workspace) -> None:
    """Repositories came or went: forget what was cached about the installation's repositories."""
    ws.gh.installation.forget_repositories()
    for repo in (*event.repositories_added, *event.repositories_removed):
        ws.configs.forget_repository(event.installation_id, repo)
