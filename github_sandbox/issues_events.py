"""``issues`` and ``issue_comment`` webhook payloads, sent to every installation on the repo."""

from __future__ import annotations

from typing import Any

from github_sandbox.issues_model import comment_shape, issue_shape
from github_sandbox.payloads import base_payload, emit_repo_event
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def emit_issue_event(
    sandbox: Sandbox,
    repo: Record,
    issue: Record,
    action: str,
    sender: str,
    **extra: Any,
) -> None:
    """``issues`` with ``action``; ``extra`` adds e.g. ``label`` or ``changes``."""
    _emit(sandbox, repo, issue, event="issues", action=action, sender=sender, fields=extra)


def emit_comment_event(
    sandbox: Sandbox,
    repo: Record,
    issue: Record,
    comment: Record,
    *,
    action: str,
    sender: str,
    **extra: Any,
) -> None:
    """``issue_comment``; on pull requests ``issue.pull_request`` is set, as on GitHub."""
    fields = {"comment": comment_shape(sandbox, repo, comment), **extra}
    _emit(sandbox, repo, issue, event="issue_comment", action=action, sender=sender, fields=fields)


def _emit(
    sandbox: Sandbox,
    repo: Record,
    issue: Record,
    *,
    event: str,
    action: str,
    sender: str,
    fields: dict[str, Any],
) -> None:
    """Send ``event`` with the payload GitHub builds: action, issue, ``fields``, then the repo."""
    payload = {
        "action": action,
        "issue": issue_shape(sandbox, repo, issue),
        **fields,
        **base_payload(sandbox, repo, sender),
    }
    emit_repo_event(sandbox, repo, event, payload)


def changes_of(before: Record, after: Record, fields: tuple[str, ...]) -> dict[str, Any]:
    """The ``changes`` object of an ``edited`` event: the old values of changed fields."""
    return {f: {"from": before[f]} for f in fields if before.get(f) != after.get(f)}
