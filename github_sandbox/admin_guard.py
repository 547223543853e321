"""The admin API's optional token: when the sandbox has one, callers send
``Authorization: Bearer <token>`` on ``/_sandbox/`` requests."""

from __future__ import annotations

import hmac

from fastapi import Request

from github_sandbox.errors import GitHubError
from github_sandbox.state import sandbox_of


def require_admin(request: Request) -> None:
    expected = sandbox_of(request).admin_token
    if expected is None:
        return
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given, expected):
        raise GitHubError(401, "Bad admin credentials")
