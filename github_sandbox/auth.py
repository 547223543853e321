"""Credentials like GitHub's: App JWTs, installation tokens (``ghs_``) and user tokens (``ghp_``).

The middleware turns the ``Authorization`` header into a ``Principal`` (401 for bad or expired
credentials) and stores it on the request; routes then ask for the access they need with
``require_app`` or ``repo_access`` (404 for repos the caller cannot see, 403 for too little
permission).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from fastapi import Request

from github_sandbox.errors import GitHubError, not_found
from github_sandbox.grants import ROLES, effective_role
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record, Store

LEVELS = ("none", "read", "write", "admin")
# The longest JWT lifetime GitHub accepts (10 minutes), plus the drift githubkit builds in.
_JWT_MAX_AHEAD_S = 600 + 60


@dataclass(frozen=True)
class Principal:
    kind: Literal["anonymous", "app", "installation", "user"]
    app_id: int | None = None
    installation_id: int | None = None
    login: str | None = None
    permissions: Mapping[str, str] = field(default_factory=dict)
    repository_ids: frozenset[int] | None = None

    @property
    def bucket(self) -> str:
        """The rate-limit budget this caller spends."""
        if self.kind == "installation":
            return f"installation:{self.installation_id}"
        if self.kind == "app":
            return f"app:{self.app_id}"
        return f"user:{self.login}" if self.login else "anonymous"


ANONYMOUS = Principal("anonymous")


def principal_of(request: Request) -> Principal:
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


def resolve_principal(sandbox: Sandbox, authorization: str | None) -> Principal:
    if not authorization:
        return ANONYMOUS
    _, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if credential.count(".") == 2:
        return _verify_jwt(sandbox.store, credential)
    token = sandbox.store.find_one("token", key=credential)
    if token is None:
        raise GitHubError(401, "Bad credentials")
    if token.get("expires_at") is not None and token["expires_at"] <= sandbox.clock.now():
        raise GitHubError(401, "Bad credentials")
    if token["kind"] == "user":
        return Principal("user", login=token["login"])
    installation = sandbox.store.get("installation", token["installation_id"])
    if installation is None or installation.get("suspended_at"):
        raise GitHubError(401, "Bad credentials")
    repo_ids = token.get("repository_ids")
    return Principal(
        "installation",
        app_id=installation["app_id"],
        installation_id=installation["id"],
        login=token.get("login"),
        permissions=token["permissions"],
        repository_ids=None if repo_ids is None else frozenset(repo_ids),
    )


def _verify_jwt(store: Store, token: str) -> Principal:
    try:
        issuer = str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
    except jwt.PyJWTError as err:
        raise GitHubError(401, "A JSON web token could not be decoded") from err
    app = find_app(store, issuer)
    if app is None:
        raise GitHubError(401, "A JSON web token could not be decoded")
    try:
        claims = jwt.decode(
            token, app["public_key"], algorithms=["RS256"], options={"require": ["iat", "exp"]}
        )
    except jwt.ExpiredSignatureError as err:
        raise GitHubError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        ) from err
    except jwt.PyJWTError as err:
        raise GitHubError(401, "A JSON web token could not be decoded") from err
    # JWTs are minted on the caller's wall clock, so they are judged by wall time, not the
    # sandbox clock (advancing the sandbox clock must not lock the app out).
    if claims["exp"] - time.time() > _JWT_MAX_AHEAD_S:
        raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
    return Principal("app", app_id=app["id"])


def find_app(store: Store, issuer: str) -> Record | None:
    """An app by id or client id (GitHub accepts either as the JWT issuer)."""
    if issuer.isdigit():
        return store.get("app", int(issuer))
    alias = store.find_one("app_alias", key=f"client:{issuer}")
    return None if alias is None else store.get("app", alias["app_id"])


def require_app(request: Request) -> Record:
    principal = principal_of(request)
    if principal.kind != "app" or principal.app_id is None:
        raise GitHubError(
            401,
            "A JSON web token could not be decoded",
            documentation_url="https://docs.github.com/rest/apps/apps",
        )
    app = sandbox_of(request).store.get("app", principal.app_id)
    if app is None:
        raise GitHubError(401, "A JSON web token could not be decoded")
    return app


def require_installation(request: Request) -> Record:
    principal = principal_of(request)
    installation_id = principal.installation_id
    installation = (
        sandbox_of(request).store.get("installation", installation_id) if installation_id else None
    )
    if installation is None:
        raise GitHubError(403, "This endpoint requires an installation access token")
    return installation


def installation_repo_ids(store: Store, installation: Record) -> set[int]:
    if installation["repository_selection"] == "all":
        return {r["id"] for r in store.find("repo") if r["owner"] == installation["account"]}
    return set(installation["repository_ids"])


def user_role(store: Store, repo: Record, login: str) -> str | None:
    """The user's highest role on the repo from every source of grants (``grants``)."""
    return effective_role(store, repo, login)


def repo_access(
    request: Request,
    owner: str,
    name: str,
    permission: str = "contents",
    level: Literal["read", "write", "admin"] = "read",
    *,
    min_role: str | None = None,
) -> Record:
    """The repo if the caller may use ``permission`` at ``level`` on it.

    Installations are judged by their token's permissions; users by their role, which must
    reach ``min_role`` (default: ``read`` for reads, ``write`` for writes, ``admin`` for admin).
    """
    sandbox = sandbox_of(request)
    repo = sandbox.repo_by_name(owner, name)
    if repo is None:
        raise not_found()
    principal = principal_of(request)
    if principal.kind == "installation":
        _check_installation(sandbox.store, principal, repo, permission, level)
        return repo
    role = user_role(sandbox.store, repo, principal.login) if principal.login else None
    if role is None and (repo["private"] or principal.kind == "app"):
        raise not_found()
    # Everyone may read a public repository.
    role = role or "read"
    needed = min_role or {"read": "read", "write": "write", "admin": "admin"}[level]
    if _rank(ROLES, role) < _rank(ROLES, needed):
        if principal.kind == "anonymous":
            raise GitHubError(401, "Requires authentication")
        raise GitHubError(403, f"Permission to {owner}/{name} denied to {principal.login}.")
    return repo


def issues_access(
    request: Request, owner: str, name: str, level: Literal["read", "write"]
) -> tuple[Sandbox, Record]:
    """The sandbox and the repo for an issue or comment route at ``level``."""
    # Reading users may open issues and comment; finer rules follow per route.
    record = repo_access(request, owner, name, "issues", level, min_role="read")
    return sandbox_of(request), record


def _check_installation(
    store: Store, principal: Principal, repo: Record, permission: str, level: str
) -> None:
    installation = store.get("installation", principal.installation_id or 0)
    visible = installation is not None and repo["id"] in installation_repo_ids(store, installation)
    if principal.repository_ids is not None:
        visible = visible and repo["id"] in principal.repository_ids
    if not visible:
        raise not_found()
    granted = "read" if permission == "metadata" else principal.permissions.get(permission, "none")
    if _rank(LEVELS, granted) < _rank(LEVELS, level):
        raise GitHubError(403, "Resource not accessible by integration")


def _rank(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else -1


def public_permissions(permissions: Mapping[str, Any]) -> dict[str, str]:
    """Installation permissions always include ``metadata: read``, as on GitHub."""
    return {"metadata": "read", **{str(k): str(v) for k, v in permissions.items()}}


def actor_login(request: Request) -> str:
    """Who acts, as a login: the user, or the app's bot account (``slug[bot]``)."""
    principal = principal_of(request)
    if principal.kind == "user" and principal.login:
        return principal.login
    app = sandbox_of(request).store.get("app", principal.app_id or 0)
    if app is None:
        raise GitHubError(401, "Requires authentication")
    return f"{app['slug']}[bot]"
