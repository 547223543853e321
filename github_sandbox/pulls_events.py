"""``pull_request`` webhook payloads: opened, edited, closed (merged or not), reopened,
synchronize, labeled and unlabeled."""

from __future__ import annotations

from typing import Any

from github_sandbox.payloads import base_payload, emit_repo_event
from github_sandbox.pulls_model import pull_shape
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def emit_pull_event(
    sandbox: Sandbox,
    repo: Record,
    pull: Record,
    action: str,
    sender: str,
    **extra: Any,
) -> None:
    """``pull_request`` with ``action``; ``extra`` adds ``before``/``after``, ``label``,
    ``changes``."""
    payload = {
        "action": action,
        "number": pull["number"],
        "pull_request": pull_shape(sandbox, repo, pull),
        **extra,
        **base_payload(sandbox, repo, sender),
    }
    emit_repo_event(sandbox, repo, "pull_request", payload)
