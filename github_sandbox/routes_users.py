"""Users and the rate-limit overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from github_sandbox.auth import principal_of
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.shapes import public_user_shape
from github_sandbox.state import sandbox_of

router = APIRouter()


@router.get("/users/{username}")
def get_user(request: Request, username: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    account = sandbox.store.find_one("account", key=username.lower())
    if account is None:
        raise not_found()
    return public_user_shape(sandbox.urls.api, account)


@router.get("/user")
def get_authenticated_user(request: Request) -> dict[str, Any]:
    sandbox, principal = sandbox_of(request), principal_of(request)
    if principal.kind == "anonymous":
        raise GitHubError(401, "Requires authentication")
    if principal.kind != "user" or principal.login is None:
        raise GitHubError(403, "Resource not accessible by integration")
    account = sandbox.store.find_one("account", key=principal.login.lower())
    if account is None:
        raise not_found()
    return {
        **public_user_shape(sandbox.urls.api, account),
        "private_gists": 0,
        "total_private_repos": 0,
        "owned_private_repos": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": False,
    }


@router.get("/rate_limit")
def get_rate_limit(request: Request) -> dict[str, Any]:
    budget = sandbox_of(request).rate_limits.peek(principal_of(request).bucket)
    core = {
        "limit": budget.limit,
        "remaining": budget.remaining,
        "reset": budget.reset,
        "used": budget.used,
    }
    search = {"limit": 30, "remaining": 30, "reset": budget.reset, "used": 0}
    return {"resources": {"core": core, "search": search}, "rate": core}
