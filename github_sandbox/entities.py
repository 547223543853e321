"""Creating the sandbox's entities: accounts, users, apps, installations, repos, roles.

The admin API and the manifest flow call these; each returns the stored record.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from github_sandbox.auth import public_permissions
from github_sandbox.errors import GitHubError, validation_failed
from github_sandbox.grants import ROLES
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

TOKEN_TTL_S = 3600


def ensure_account(sandbox: Sandbox, login: str, account_type: str = "Organization") -> Record:
    found = sandbox.store.find_one("account", key=login.lower())
    if found is not None:
        return found
    return sandbox.store.insert(
        "account",
        {
            "login": login,
            "type": account_type,
            "name": login,
            "email": None,
            "created_at": sandbox.clock.iso(),
        },
        key=login.lower(),
    )


def account(sandbox: Sandbox, login: str) -> Record:
    found = sandbox.store.find_one("account", key=login.lower())
    if found is None:
        raise GitHubError(404, "Not Found")
    return found


def create_user(sandbox: Sandbox, login: str, *, name: str | None = None) -> tuple[Record, str]:
    """A simulated user and a personal token (``ghp_...``) that never expires."""
    if sandbox.store.find_one("account", key=login.lower()) is not None:
        raise validation_failed(f"login already exists login={login}", field="login")
    user = ensure_account(sandbox, login, "User")
    user = sandbox.store.update(
        "account", {**user, "name": name or login, "email": f"{login}@users.sandbox.localhost"}
    )
    token = "ghp_" + secrets.token_hex(18)
    sandbox.store.insert("token", {"kind": "user", "login": login, "expires_at": None}, key=token)
    return user, token


def grant_role(sandbox: Sandbox, repo: Record, login: str, role: str) -> Record:
    if role not in ROLES:
        raise validation_failed(f"unknown role role={role}", field="role")
    account(sandbox, login)
    store = sandbox.store
    existing = store.find_one("role", key=login.lower(), repo_id=repo["id"])
    if existing is not None:
        return store.update("role", {**existing, "role": role})
    data = {"login": login, "role": role}
    return store.insert("role", data, repo_id=repo["id"], key=login.lower())


def create_app(
    sandbox: Sandbox,
    *,
    name: str,
    owner: str,
    webhook_url: str | None = None,
    permissions: dict[str, str] | None = None,
    events: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Record:
    """A GitHub App with a fresh RSA key pair, webhook secret and client credentials."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if sandbox.store.find_one("app", key=slug) is not None:
        raise validation_failed(f"app name already taken name={name}", field="name")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    client_id = "Iv1." + secrets.token_hex(8)
    app = sandbox.store.insert(
        "app",
        {
            "name": name,
            "slug": slug,
            "owner": ensure_account(sandbox, owner)["login"],
            "client_id": client_id,
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20),
            "webhook_url": webhook_url,
            "webhook_active": True,
            "pem": pem,
            "public_key": public,
            "permissions": public_permissions(permissions or {}),
            "events": list(events or []),
            "created_at": sandbox.clock.iso(),
            **(extra or {}),
        },
        key=slug,
    )
    ensure_account(sandbox, f"{slug}[bot]", "Bot")
    # Second lookup key: GitHub accepts the client id as JWT issuer; the hook id is per app.
    sandbox.store.insert("app_alias", {"app_id": app["id"]}, key=f"client:{client_id}")
    return sandbox.store.update("app", {**app, "hook_id": app["id"] + 100_000})


def create_installation(
    sandbox: Sandbox, app: Record, account_login: str, repositories: list[str] | None
) -> Record:
    """Install ``app`` on an account, for all its repos (None) or the named ones."""
    target = account(sandbox, account_login)
    repo_ids = [_repo_id(sandbox, target["login"], name) for name in repositories or []]
    return sandbox.store.insert(
        "installation",
        {
            "app_id": app["id"],
            "account": target["login"],
            "repository_selection": "all" if repositories is None else "selected",
            "repository_ids": repo_ids,
            "permissions": app["permissions"],
            "events": app["events"],
            "created_at": sandbox.clock.iso(),
            "suspended_at": None,
        },
        key=target["login"].lower(),
    )


def issue_installation_token(
    sandbox: Sandbox,
    installation: Record,
    *,
    repository_ids: list[int] | None = None,
    permissions: dict[str, str] | None = None,
) -> Record:
    """An installation token (``ghs_...``) that expires one hour from now on the sandbox clock."""
    granted = dict(installation["permissions"])
    for name, level in (permissions or {}).items():
        if granted.get(name) not in (level, "write", "admin") or level == "admin":
            raise GitHubError(
                422, f"The permissions requested are not granted to this installation. {name}"
            )
        granted[name] = level
    if permissions:
        granted = {name: granted[name] for name in ("metadata", *permissions) if name in granted}
    token = "ghs_" + secrets.token_hex(18)
    return sandbox.store.insert(
        "token",
        {
            "kind": "installation",
            "token": token,
            "installation_id": installation["id"],
            "expires_at": sandbox.clock.now() + TOKEN_TTL_S,
            "permissions": granted,
            "repository_ids": repository_ids,
        },
        key=token,
    )


def _repo_id(sandbox: Sandbox, owner: str, name: str) -> int:
    repo = sandbox.repo_by_name(owner, name)
    if repo is None:
        raise validation_failed(f"no such repository repo={owner}/{name}", field="repositories")
    return int(repo["id"])
