"""A typed client for the sandbox admin API, sync and async.

Each admin operation is a ``Call`` built by a function in this module; a client runs it::

    admin = AdminClient(handle.url)
    app = admin.run(create_app("promoter", webhook_url=url, permissions={"contents": "write"}))
    inst = admin.run(install_app(app.id, "acme", repositories=["env"]))
    pr = admin.run(ActAs("alice").open_pull("acme", "env", head="fix", base="main", title="Fix"))
    admin.run(ActAs("bob").merge("acme", "env", pr["number"]))

People act through ``ActAs(login)``: ``open_pull``, ``open_issue``, ``comment``, ``close``,
``reopen``, ``merge``, ``approve``, ``click`` (a check run button), each checked against the
person's role and sending the webhooks the same act sends on GitHub.

``AsyncAdminClient(base_url, transport=httpx.ASGITransport(app))`` runs the same calls against an
in-process sandbox. Building calls as values keeps one definition per operation for both clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from github_sandbox.admin_call import Call
from github_sandbox.admin_call import as_json as _raw
from github_sandbox.collab_admin import (
    ActAs,
    add_org_member,
    add_team_member,
    create_team,
    grant_team_repo,
    set_base_permission,
)

__all__ = [
    "ActAs",
    "AdminClient",
    "AdminError",
    "AppCredentials",
    "AsyncAdminClient",
    "Call",
    "InstallationRef",
    "PushResult",
    "RefMove",
    "UserToken",
    "add_org_member",
    "add_team_member",
    "advance_clock",
    "change_installation_repositories",
    "counters",
    "create_app",
    "create_repo",
    "create_team",
    "create_user",
    "deliveries",
    "flush_deliveries",
    "grant_role",
    "grant_team_repo",
    "install_app",
    "installation_token",
    "publish_package",
    "push",
    "requests_log",
    "reset_requests",
    "set_base_permission",
    "set_faults",
    "set_secondary_limits",
    "sink",
]

T = TypeVar("T")


class AppCredentials(BaseModel):
    id: int
    slug: str
    name: str
    owner: str
    client_id: str
    client_secret: str
    webhook_secret: str
    pem: str
    permissions: dict[str, str]
    events: list[str]
    webhook_url: str | None


class InstallationRef(BaseModel):
    id: int
    account: str


class UserToken(BaseModel):
    login: str
    id: int
    token: str


class RefMove(BaseModel):
    ref: str
    before: str
    after: str


class PushResult(BaseModel):
    updates: list[RefMove]


def create_app(
    name: str,
    *,
    owner: str = "sandbox-org",
    webhook_url: str | None = None,
    permissions: Mapping[str, str] | None = None,
    events: list[str] | None = None,
    setup_url: str | None = None,
    redirect_url: str | None = None,
) -> Call[AppCredentials]:
    body = {
        "name": name,
        "owner": owner,
        "webhook_url": webhook_url,
        "permissions": dict(permissions or {}),
        "events": events or [],
        "setup_url": setup_url,
        "redirect_url": redirect_url,
    }
    return Call("POST", "/_sandbox/apps", AppCredentials.model_validate, body)


def install_app(
    app_id: int, account: str, *, repositories: list[str] | None = None
) -> Call[InstallationRef]:
    body = {"account": account, "repositories": repositories}
    path = f"/_sandbox/apps/{app_id}/installations"
    return Call("POST", path, InstallationRef.model_validate, body)


def installation_token(installation_id: int) -> Call[str]:
    path = f"/_sandbox/installations/{installation_id}/token"
    return Call("POST", path, lambda data: str(data["token"]))


def change_installation_repositories(
    installation_id: int, *, add: list[str] | None = None, remove: list[str] | None = None
) -> Call[dict[str, Any]]:
    path = f"/_sandbox/installations/{installation_id}/repositories"
    return Call("POST", path, _raw, {"add": add or [], "remove": remove or []})


def create_user(login: str, *, name: str | None = None) -> Call[UserToken]:
    return Call("POST", "/_sandbox/users", UserToken.model_validate, {"login": login, "name": name})


def create_repo(
    owner: str,
    name: str,
    *,
    files: Mapping[str, str] | None = None,
    source_dir: str | None = None,
    branches: Mapping[str, Mapping[str, str | None]] | None = None,
    private: bool = False,
    default_branch: str = "main",
    owner_type: str = "Organization",
) -> Call[dict[str, Any]]:
    body = {
        "owner": owner,
        "name": name,
        "files": dict(files or {}),
        "source_dir": source_dir,
        "branches": {b: dict(f) for b, f in (branches or {}).items()},
        "private": private,
        "default_branch": default_branch,
        "owner_type": owner_type,
    }
    return Call("POST", "/_sandbox/repos", _raw, body)


def merge_settings(
    owner: str, name: str, *, merge: bool = True, squash: bool = True, rebase: bool = True
) -> Call[dict[str, Any]]:
    """The merge methods the repository allows (``allow_merge_commit``, ``allow_squash_merge``,
    ``allow_rebase_merge``); the repository as ``GET /repos/{o}/{r}`` shows it."""
    body = {"allow_merge_commit": merge, "allow_squash_merge": squash, "allow_rebase_merge": rebase}
    return Call("PATCH", f"/_sandbox/repos/{owner}/{name}", _raw, body)


def grant_role(owner: str, name: str, login: str, role: str) -> Call[dict[str, Any]]:
    return Call("PUT", f"/_sandbox/repos/{owner}/{name}/roles/{login}", _raw, {"role": role})


def push(
    owner: str,
    name: str,
    *,
    pusher: str,
    branch: str | None = None,
    files: Mapping[str, str | None] | None = None,
    message: str = "Update files",
    tags: Mapping[str, str] | None = None,
    force_sha: str | None = None,
    modes: Mapping[str, str] | None = None,
) -> Call[PushResult]:
    """Files (``None`` deletes) with git ``modes`` by path (``100755`` executable, ``120000``
    a symbolic link whose content is its target; ``100644`` unless named), and tags."""
    body = {
        "pusher": pusher,
        "branch": branch,
        "files": dict(files or {}),
        "message": message,
        "tags": dict(tags or {}),
        "force_sha": force_sha,
        "modes": dict(modes or {}),
    }
    return Call("POST", f"/_sandbox/repos/{owner}/{name}/push", PushResult.model_validate, body)


def publish_package(
    owner: str,
    name: str,
    *,
    repository: str,
    tag: str,
    platforms: list[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Call[dict[str, Any]]:
    body = {
        "owner": owner,
        "name": name,
        "repository": repository,
        "tag": tag,
        "platforms": platforms or [],
        "labels": dict(labels or {}),
    }
    return Call("POST", "/_sandbox/packages", _raw, body)


def requests_log(
    *, installation_id: int | None = None, route: str | None = None, since: float | None = None
) -> Call[list[dict[str, Any]]]:
    params = _drop_none(installation_id=installation_id, route=route, since=since)
    return Call("GET", "/_sandbox/requests", _raw, params=params)


def counters(
    *, installation_id: int | None = None, route: str | None = None, since: float | None = None
) -> Call[dict[str, Any]]:
    params = _drop_none(installation_id=installation_id, route=route, since=since)
    return Call("GET", "/_sandbox/counters", _raw, params=params)


def reset_requests() -> Call[Any]:
    return Call("DELETE", "/_sandbox/requests", _raw)


def set_faults(rules: list[Mapping[str, Any]]) -> Call[list[dict[str, Any]]]:
    return Call("PUT", "/_sandbox/faults", _raw, [dict(rule) for rule in rules])


def set_secondary_limits(**figures: Any) -> Call[dict[str, Any]]:
    """Turn the secondary rate limits on with GitHub's figures, or with the ``figures`` given
    (``SecondaryFigures``' fields: ``concurrent``, ``content_per_minute``, ``window_scale``,
    ``enabled=False`` to turn them off...)."""
    return Call("PUT", "/_sandbox/secondary-limits", _raw, {"enabled": True, **figures})


def advance_clock(seconds: float) -> Call[dict[str, Any]]:
    return Call("POST", "/_sandbox/clock/advance", _raw, {"seconds": seconds})


def deliveries(*, event: str | None = None) -> Call[list[dict[str, Any]]]:
    return Call("GET", "/_sandbox/deliveries", _raw, params=_drop_none(event=event))


def flush_deliveries(timeout: float = 10.0) -> Call[bool]:
    params = {"timeout": timeout}
    return Call("POST", "/_sandbox/deliveries/flush", lambda d: bool(d["idle"]), params=params)


def sink(name: str) -> Call[list[dict[str, Any]]]:
    return Call("GET", f"/_sandbox/sink/{name}", _raw)


def _drop_none(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class AdminError(RuntimeError):
    pass


def _result(call: Call[T], response: httpx.Response) -> T:
    if response.is_error:
        raise AdminError(
            f"admin call failed method={call.method} path={call.path} "
            f"status={response.status_code} body={response.text[:500]}"
        )
    return call.parse(response.json() if response.content else None)


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class AdminClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(token), transport=transport, timeout=30.0
        )

    def run(self, call: Call[T]) -> T:
        response = self._http.request(call.method, call.path, json=call.json, params=call.params)
        return _result(call, response)

    def close(self) -> None:
        self._http.close()


class AsyncAdminClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(token), transport=transport, timeout=30.0
        )

    async def run(self, call: Call[T]) -> T:
        response = await self._http.request(
            call.method, call.path, json=call.json, params=call.params
        )
        return _result(call, response)

    async def aclose(self) -> None:
        await self._http.aclose()
