"""The GitHub App manifest flow and the install page, as a browser sees them.

``POST /settings/apps/new`` (or ``/organizations/{org}/settings/apps/new``) with a ``manifest``
form field shows a confirm page; confirming redirects to the manifest's
``redirect_url?code=...&state=...``; ``POST /app-manifests/{code}/conversions`` turns the code
(valid one hour, once) into an app. ``/apps/{slug}/installations/new`` installs it and
redirects to its ``setup_url``.
"""

from __future__ import annotations

import html
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from github_sandbox.entities import create_app, create_installation, ensure_account
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.payloads_apps import emit_installation_created
from github_sandbox.routes_apps import app_json
from github_sandbox.state import sandbox_of

router = APIRouter()

CODE_TTL_S = 3600
# Who "completes" a personal-account manifest flow (the sandbox has no browser login).
DEFAULT_OWNER = "sandbox-admin"


async def _form(request: Request) -> dict[str, str]:
    fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
    query = dict(request.query_params)
    return {**query, **{name: values[0] for name, values in fields.items()}}


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _confirm_page(action: str, manifest: dict[str, Any], raw: str, state: str) -> HTMLResponse:
    permissions = "".join(
        f"<li>{html.escape(k)}: {html.escape(str(v))}</li>"
        for k, v in manifest.get("default_permissions", {}).items()
    )
    return _page(
        f"Create GitHub App {manifest.get('name', '')}",
        f"<p>Webhook: {html.escape(str(manifest.get('hook_attributes', {}).get('url')))}</p>"
        f"<ul>{permissions}</ul>"
        f'<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="manifest" value="{html.escape(raw)}">'
        f'<input type="hidden" name="state" value="{html.escape(state)}">'
        f'<button type="submit">Create GitHub App</button></form>',
    )


def _parse_manifest(raw: str) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except json.JSONDecodeError as err:
        raise GitHubError(422, "manifest is not valid JSON") from err
    if not isinstance(manifest, dict) or not manifest.get("url"):
        raise GitHubError(422, "manifest needs a url")
    if not manifest.get("hook_attributes", {}).get("url"):
        raise GitHubError(422, "manifest needs hook_attributes.url")
    return manifest


async def _start(request: Request, owner: str) -> HTMLResponse:
    form = await _form(request)
    raw = form.get("manifest", "")
    if not raw:
        return _page("Register new GitHub App", f"<p>POST a manifest form field. owner={owner}</p>")
    manifest = _parse_manifest(raw)
    return _confirm_page(f"{request.url.path}/confirm", manifest, raw, form.get("state", ""))


async def _confirm(request: Request, owner: str) -> RedirectResponse:
    sandbox, form = sandbox_of(request), await _form(request)
    manifest = _parse_manifest(form.get("manifest", ""))
    code = secrets.token_hex(10)
    data = {"manifest": manifest, "owner": owner, "created_at": sandbox.clock.now()}
    sandbox.store.insert("manifest_code", data, key=code)
    target = manifest.get("redirect_url") or manifest["url"]
    query = urlencode({"code": code, "state": form.get("state", "")})
    return RedirectResponse(f"{target}?{query}", status_code=302)


@router.api_route("/settings/apps/new", methods=["GET", "POST"])
async def manifest_start(request: Request) -> HTMLResponse:
    return await _start(request, DEFAULT_OWNER)


@router.post("/settings/apps/new/confirm")
async def manifest_confirm(request: Request) -> RedirectResponse:
    ensure_account(sandbox_of(request), DEFAULT_OWNER, "User")
    return await _confirm(request, DEFAULT_OWNER)


@router.api_route("/organizations/{org}/settings/apps/new", methods=["GET", "POST"])
async def org_manifest_start(request: Request, org: str) -> HTMLResponse:
    return await _start(request, org)


@router.post("/organizations/{org}/settings/apps/new/confirm")
async def org_manifest_confirm(request: Request, org: str) -> RedirectResponse:
    return await _confirm(request, org)


@router.post("/app-manifests/{code}/conversions", status_code=201)
def convert_manifest(request: Request, code: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    record = sandbox.store.find_one("manifest_code", key=code)
    if record is None or record["created_at"] + CODE_TTL_S <= sandbox.clock.now():
        raise not_found()
    sandbox.store.delete("manifest_code", record["id"])
    manifest = record["manifest"]
    app = create_app(
        sandbox,
        name=manifest.get("name") or f"app-{code[:6]}",
        owner=record["owner"],
        webhook_url=manifest["hook_attributes"]["url"],
        permissions=manifest.get("default_permissions", {}),
        events=manifest.get("default_events", []),
        extra={
            key: manifest.get(key) for key in ("url", "setup_url", "redirect_url", "description")
        },
    )
    if manifest["hook_attributes"].get("active") is False:
        app = sandbox.store.update("app", {**app, "webhook_active": False})
    secrets_ = {k: app[k] for k in ("client_id", "client_secret", "webhook_secret", "pem")}
    return {**app_json(sandbox, app), **secrets_}


def _install_form(slug: str, owner: str) -> HTMLResponse:
    return _page(
        f"Install {slug}",
        f'<form method="post"><label>Account <input name="account" value="{html.escape(owner)}">'
        "</label><label>Repositories (comma separated, empty for all) "
        '<input name="repositories" value=""></label>'
        '<button type="submit">Install</button></form>',
    )


@router.api_route("/apps/{slug}/installations/new", methods=["GET", "POST"])
async def install_page(request: Request, slug: str) -> Any:
    sandbox = sandbox_of(request)
    app = sandbox.store.find_one("app", key=slug)
    if app is None:
        raise not_found()
    if request.method == "GET":
        return _install_form(slug, app["owner"])
    form = await _form(request)
    names = [n.strip() for n in form.get("repositories", "").split(",") if n.strip()]
    account = form.get("account") or app["owner"]
    installation = create_installation(sandbox, app, account, names or None)
    emit_installation_created(sandbox, installation, account)
    setup = app.get("setup_url") or f"{sandbox.urls.html}/apps/{slug}"
    query = urlencode({"installation_id": installation["id"], "setup_action": "install"})
    return RedirectResponse(f"{setup}?{query}", status_code=302)
