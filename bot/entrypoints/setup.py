"""First run: register the GitHub App from ``app-manifest.yml`` through GitHub's manifest flow.

``promotion-bot serve`` without credentials serves ``create_setup_app``:

1. ``GET /setup`` asks for the organisation (empty: the person's own account), an app name and
   the public URL GitHub will reach the bot on (the address the page is served on by default).
2. ``POST /setup/start`` fills the manifest's URLs from that address and posts it to GitHub's
   ``/settings/apps/new`` (or ``/organizations/{org}/settings/apps/new``) with a one-time
   ``state``.
3. GitHub redirects to ``/setup/callback?code=...&state=...``; the state is checked and spent,
   the code is exchanged (``POST /app-manifests/{code}/conversions``, unauthenticated) and the
   credentials are written to ``.env`` (mode 0600) before the person is sent to the app's
   install page.
4. ``/setup/installed`` is where GitHub returns after the install: restart the bot.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import uvicorn
import yaml
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from githubkit import GitHub
from githubkit.exception import GitHubException
from pydantic import ValidationError

from bot.adapters.github import web_url_of
from bot.entrypoints.http_server import server_config
from bot.settings import ENV_PREFIX, Settings

log = logging.getLogger("bot.setup")

MANIFEST_NAME = "app-manifest.yml"
_SOURCE_MANIFEST = Path(__file__).resolve().parent.parent.parent / MANIFEST_NAME
# GitHub keeps a manifest code one hour; a state older than that cannot be used anyway.
STATE_TTL_S = 3600.0
WEBHOOK_PATH = "/webhooks/github"


@dataclass(frozen=True)
class RegisteredApp:
    """What the manifest conversion gives back that the bot keeps."""

    id: int
    slug: str
    html_url: str
    pem: str
    webhook_secret: str


@dataclass
class SetupFlow:
    """The flow's state: one-time ``state`` values (with expiry) and whether it has finished."""

    settings: Settings
    env_path: Path
    manifest: dict[str, Any]
    web_url: str
    transport: httpx.AsyncBaseTransport | None = None
    states: dict[str, float] = field(default_factory=dict)
    registered: RegisteredApp | None = None

    def new_state(self) -> str:
        now = time.monotonic()
        self.states = {s: t for s, t in self.states.items() if t > now}
        state = secrets.token_urlsafe(24)
        self.states[state] = now + STATE_TTL_S
        return state

    def spend_state(self, state: str) -> bool:
        """True once for a state this flow issued and that has not expired."""
        expires = self.states.pop(state, None)
        return expires is not None and expires > time.monotonic()


def find_manifest() -> Path:
    """``app-manifest.yml`` of a source checkout, else the installed distribution's copy."""
    if _SOURCE_MANIFEST.is_file():
        return _SOURCE_MANIFEST
    try:
        files = importlib.metadata.distribution("promotion-bot").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.as_posix().endswith(f"share/promotion-bot/{MANIFEST_NAME}"):
            return Path(str(file.locate()))
    raise FileNotFoundError(f"app manifest not found source={_SOURCE_MANIFEST}")


def manifest_for(manifest: Mapping[str, Any], public_url: str, name: str) -> dict[str, Any]:
    """The manifest with the bot's own URLs (and the chosen name) filled in."""
    base = public_url.rstrip("/")
    filled = {
        **manifest,
        "hook_attributes": {**manifest.get("hook_attributes", {}), "url": base + WEBHOOK_PATH},
        "redirect_url": f"{base}/setup/callback",
        "setup_url": f"{base}/setup/installed",
    }
    if name:
        filled["name"] = name
    return filled


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def credential_values(app: RegisteredApp, github_url: str) -> dict[str, str]:
    """The ``.env`` entries for a registered app (values quoted for dotenv)."""
    return {
        f"{ENV_PREFIX}APP_ID": str(app.id),
        f"{ENV_PREFIX}PRIVATE_KEY": _quote(app.pem),
        f"{ENV_PREFIX}WEBHOOK_SECRET": _quote(app.webhook_secret),
        f"{ENV_PREFIX}GITHUB_URL": _quote(github_url),
    }


def write_env(path: Path, values: Mapping[str, str]) -> None:
    """Set ``values`` in the dotenv file at ``path``, keeping its other lines; the file is
    created with mode 0600 before any secret is written to it and replaced atomically."""
    kept: list[str] = []
    if path.is_file():
        kept = [
            line
            for line in path.read_text().splitlines()
            if line.partition("=")[0].strip().removeprefix("export ").strip() not in values
        ]
    lines = [*kept, "# Written by promotion-bot setup; keep this file secret."]
    lines += [f"{key}={value}" for key, value in values.items()]
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(partial, path)


async def exchange_code(
    github_url: str, code: str, transport: httpx.AsyncBaseTransport | None = None
) -> RegisteredApp:
    """Turn a manifest ``code`` into the new app's credentials."""
    github = GitHub(base_url=github_url, async_transport=transport, timeout=30.0)
    response = await github.rest.apps.async_create_from_manifest(code)
    data = response.parsed_data
    if not data.webhook_secret:
        raise ValueError(f"GitHub gave no webhook secret app_id={data.id}")
    slug = data.slug if isinstance(data.slug, str) else str(data.id)
    return RegisteredApp(data.id, slug, data.html_url, data.pem, data.webhook_secret)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}"
        "label{display:block;margin:.8em 0}input{width:100%}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


async def _form(request: Request) -> dict[str, str]:
    fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
    return {name: values[0].strip() for name, values in fields.items()}


def _start_page(flow: SetupFlow, public_url: str) -> HTMLResponse:
    name = html.escape(str(flow.manifest.get("name", "")))
    return _page(
        "Set up Promotion Bot",
        "<p>Promotion Bot has no GitHub App credentials yet. Register it as a GitHub App: "
        f"GitHub ({html.escape(flow.web_url)}) asks you to confirm, then to install it.</p>"
        '<form method="post" action="/setup/start">'
        "<label>Organisation (leave empty to register the app on your own account)"
        ' <input name="org" value="" placeholder="my-org"></label>'
        f'<label>App name <input name="name" value="{name}"></label>'
        "<label>Public URL GitHub sends webhooks to"
        f' <input name="public_url" value="{html.escape(public_url)}"></label>'
        '<button type="submit">Register GitHub App</button></form>',
    )


def _post_to_github(action: str, manifest: dict[str, Any]) -> HTMLResponse:
    raw = html.escape(json.dumps(manifest))
    return _page(
        "Continue on GitHub",
        f'<form id="manifest" method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="manifest" value="{raw}">'
        '<button type="submit">Continue to GitHub</button></form>'
        '<script>document.getElementById("manifest").submit()</script>',
    )


def _registered_page(flow: SetupFlow) -> HTMLResponse:
    return _page(
        "Promotion Bot is registered",
        f"<p>Credentials are in <code>{html.escape(str(flow.env_path))}</code>. Restart "
        "<code>promotion-bot serve</code> to run with them.</p>",
        status=409,
    )


def setup_router(flow: SetupFlow) -> APIRouter:
    """The setup pages over one ``SetupFlow``."""
    router = APIRouter()

    @router.get("/setup")
    async def start_page(request: Request) -> HTMLResponse:
        if flow.registered is not None:
            return _registered_page(flow)
        return _start_page(flow, str(request.base_url).rstrip("/"))

    @router.post("/setup/start")
    async def start(request: Request) -> HTMLResponse:
        if flow.registered is not None:
            return _registered_page(flow)
        form = await _form(request)
        public_url = form.get("public_url") or str(request.base_url)
        manifest = manifest_for(flow.manifest, public_url, form.get("name", ""))
        org = form.get("org", "")
        path = f"/organizations/{org}/settings/apps/new" if org else "/settings/apps/new"
        query = urlencode({"state": flow.new_state()})
        log.info("starting app registration org=%s public_url=%s", org or "-", public_url)
        return _post_to_github(f"{flow.web_url}{path}?{query}", manifest)

    @router.get("/setup/callback", response_model=None)
    async def callback(code: str = "", state: str = "") -> HTMLResponse | RedirectResponse:
        if not code or not flow.spend_state(state):
            log.warning("refusing setup callback: unknown or used state")
            return _page("Setup link expired", '<p><a href="/setup">Start again</a>.</p>', 400)
        try:
            app = await exchange_code(flow.settings.github_url, code, flow.transport)
        except (GitHubException, ValidationError, ValueError) as err:
            log.error("exchanging manifest code failed: %s", type(err).__name__)
            return _page("GitHub refused the registration", "<p>Start again.</p>", 502)
        write_env(flow.env_path, credential_values(app, flow.settings.github_url))
        flow.registered = app
        log.info("registered app app_id=%d slug=%s env=%s", app.id, app.slug, flow.env_path)
        return RedirectResponse(f"{app.html_url}/installations/new", status_code=302)

    router.include_router(installed_router())
    return router


def installed_router() -> APIRouter:
    """``/setup/installed``, where GitHub sends the person after installing the app. Its
    ``installation_id`` parameter is not trusted: the bot learns installations from webhooks."""
    router = APIRouter()

    @router.get("/setup/installed")
    async def installed(setup_action: str = "install") -> HTMLResponse:
        verb = "updated" if setup_action == "update" else "installed"
        return _page(
            f"Promotion Bot is {verb}",
            "<p>If the bot was set up just now, restart <code>promotion-bot serve</code> so it "
            "runs with the new credentials. Pull requests follow the next image push.</p>",
        )

    return router


def settings_for_setup() -> Settings | None:
    """The settings when none of the app's credentials is set (so setup applies), else None."""
    try:
        settings = Settings()
    except ValidationError:
        return None
    bare = settings.app_id is None and settings.private_key is None
    bare = bare and settings.private_key_file is None
    return settings if bare and not settings.webhook_secret.get_secret_value() else None


def create_setup_app(
    settings: Settings,
    env_path: Path = Path(".env"),
    *,
    manifest_path: Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The web app served while the bot has no credentials: the setup pages and the probes."""
    manifest = yaml.safe_load((manifest_path or find_manifest()).read_text())
    flow = SetupFlow(settings, env_path, manifest, web_url_of(settings.github_url), transport)
    app = FastAPI(title="Promotion Bot setup", docs_url=None, redoc_url=None)
    app.include_router(setup_router(flow))

    @app.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/setup", status_code=302)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        return JSONResponse(
            {"status": "not ready", "problems": ["app not registered: /setup"]}, 503
        )

    return app


def run_setup(settings: Settings, host: str, port: int, env_path: Path = Path(".env")) -> int:
    """Serve the setup pages until stopped (``promotion-bot serve`` without credentials)."""
    log.info("no GitHub App credentials: serving setup at http://%s:%d/setup", host, port)
    uvicorn.Server(server_config(create_setup_app(settings, env_path), host, port)).run()
    return 0
