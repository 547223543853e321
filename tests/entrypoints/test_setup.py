"""The first-run setup: manifest URLs, the .env file, the one-time state, and the whole flow
against the sandbox, in process and then live: from no ``.env`` to an installed app whose
restarted bot receives the signed ``installation`` webhook the sandbox sends on install."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI

from bot.entrypoints.http_server import KEEP_ALIVE_S
from bot.entrypoints.setup import (
    RegisteredApp,
    create_setup_app,
    credential_values,
    manifest_for,
    run_setup,
    settings_for_setup,
    write_env,
)
from bot.settings import Settings, settings_problems
from github_sandbox.app import create_app as create_sandbox_app
from github_sandbox.app import sandbox_of_app

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = "http://sandbox.test"
BOT = "http://bot.test"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class FormParser(HTMLParser):
    """The forms of a page, as a person's browser would submit them (no JavaScript)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get")))
        elif tag == "input" and self.forms and "name" in values:
            self.forms[-1].fields[values["name"]] = values.get("value", "")


def only_form(response: httpx.Response) -> Form:
    parser = FormParser()
    parser.feed(response.text)
    [form] = parser.forms
    form.action = urljoin(str(response.url), form.action or str(response.url))
    return form


async def submit(client: httpx.AsyncClient, form: Form, **changes: str) -> httpx.Response:
    return await client.request(form.method.upper(), form.action, data={**form.fields, **changes})


def test_manifest_urls_follow_the_public_url() -> None:
    manifest = yaml.safe_load((ROOT / "app-manifest.yml").read_text())
    filled = manifest_for(manifest, "https://bot.example.org/", "acme-promoter")
    assert filled["hook_attributes"] == {
        "url": "https://bot.example.org/webhooks/github",
        "active": True,
    }
    assert filled["redirect_url"] == "https://bot.example.org/setup/callback"
    assert filled["setup_url"] == "https://bot.example.org/setup/installed"
    assert filled["name"] == "acme-promoter"
    assert filled["default_permissions"] == manifest["default_permissions"]
    assert manifest_for(manifest, "http://x", "")["name"] == manifest["name"]


PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIE"quoted\\slash\n-----END RSA PRIVATE KEY-----\n'


def test_env_file_is_private_and_read_back(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PROMOTION_BOT_LOG_LEVEL=DEBUG\nPROMOTION_BOT_APP_ID=1\n")
    app = RegisteredApp(42, "promoter", "http://gh/apps/promoter", PEM, "s" * 8 + "t" * 32)
    write_env(env, credential_values(app, "https://ghes.example.com/api/v3"))
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    settings = Settings(_env_file=env)
    assert settings.app_id == 42 and settings.log_level == "DEBUG"
    assert settings.private_key is not None and settings.private_key.get_secret_value() == PEM
    assert settings.webhook_secret.get_secret_value() == "s" * 8 + "t" * 32
    assert settings.github_url == "https://ghes.example.com/api/v3"
    assert env.read_text().count("PROMOTION_BOT_APP_ID=") == 1


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[FastAPI]:
    app = create_sandbox_app(tmp_path / "sandbox")
    sandbox_of_app(app).urls.api = SANDBOX
    yield app
    sandbox_of_app(app).close()


class HostTransport(httpx.AsyncBaseTransport):
    """Sends each request to the ASGI app of its host, as DNS would."""

    def __init__(self, apps: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.apps[request.url.host].handle_async_request(request)


@pytest.fixture
async def browser(sandbox: FastAPI, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    to_sandbox = httpx.ASGITransport(app=sandbox)
    setup = create_setup_app(
        Settings(github_url=SANDBOX, _env_file=None), tmp_path / ".env", transport=to_sandbox
    )
    hosts = HostTransport({"sandbox.test": to_sandbox, "bot.test": httpx.ASGITransport(setup)})
    async with httpx.AsyncClient(transport=hosts, base_url=BOT) as client:
        yield client


async def register(client: httpx.AsyncClient, base: str, org: str = "") -> httpx.Response:
    """A person's way through the pages up to GitHub's redirect to the install page."""
    page = await client.get(f"{base}/setup")
    assert page.status_code == 200 and "Register GitHub App" in page.text
    to_github = await submit(client, only_form(page), org=org)
    confirm = await submit(client, only_form(to_github))
    assert confirm.status_code == 200 and "Create GitHub App" in confirm.text
    return await submit(client, only_form(confirm))


@pytest.mark.parametrize("org", ["", "acme"])
async def test_registration_in_process(
    browser: httpx.AsyncClient, sandbox: FastAPI, tmp_path: Path, org: str
) -> None:
    back = await register(browser, BOT, org)
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    assert (callback.netloc, callback.path) == ("bot.test", "/setup/callback")
    state = parse_qs(callback.query)["state"][0]
    to_install = await browser.get(back.headers["location"])
    assert to_install.status_code == 302
    assert to_install.headers["location"].endswith("/installations/new")

    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    settings = Settings(_env_file=env)
    assert settings_problems(settings) == []
    [app] = sandbox_of_app(sandbox).store.find("app")
    assert (settings.app_id, app["owner"]) == (app["id"], org or "sandbox-admin")
    assert app["webhook_url"] == f"{BOT}/webhooks/github"
    assert (
        app["events"] == yaml.safe_load((ROOT / "app-manifest.yml").read_text())["default_events"]
    )

    replay = await browser.get(f"/setup/callback?code=x&state={state}")
    assert replay.status_code == 400  # the state was spent
    assert (await browser.get("/setup")).status_code == 409


@pytest.mark.parametrize("query", ["", "?code=abc", "?code=abc&state=forged", "?state=x"])
async def test_callback_refuses_unknown_state(browser: httpx.AsyncClient, query: str) -> None:
    response = await browser.get(f"/setup/callback{query}")
    assert response.status_code == 400 and "Start again" in response.text


async def test_callback_with_a_stale_code(browser: httpx.AsyncClient, tmp_path: Path) -> None:
    to_github = await submit(browser, only_form(await browser.get("/setup")))
    state = parse_qs(urlsplit(only_form(to_github).action).query)["state"][0]
    response = await browser.get(f"/setup/callback?code=never-issued&state={state}")
    assert response.status_code == 502 and not (tmp_path / ".env").exists()


async def test_probes_while_unregistered(browser: httpx.AsyncClient) -> None:
    assert (await browser.get("/healthz")).json() == {"status": "ok"}
    assert (await browser.get("/readyz")).status_code == 503
    assert (await browser.get("/")).headers["location"] == "/setup"
    installed = await browser.get("/setup/installed?installation_id=1&setup_action=install")
    assert "restart" in installed.text


@pytest.mark.parametrize(
    ("env", "applies"),
    [
        ({}, True),
        ({"PROMOTION_BOT_LOG_LEVEL": "DEBUG"}, True),
        ({"PROMOTION_BOT_APP_ID": "5"}, False),
        ({"PROMOTION_BOT_WEBHOOK_SECRET": "changeme"}, False),
        ({"PROMOTION_BOT_PRIVATE_KEY_FILE": "/nowhere.pem"}, False),
        ({"PROMOTION_BOT_APP_ID": "not a number"}, False),
    ],
)
def test_settings_for_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], applies: bool
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert (settings_for_setup() is not None) == applies


async def test_run_setup_serves_the_setup_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: list[uvicorn.Config] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server: served.append(server.config))
    settings = Settings(_env_file=None)
    assert run_setup(settings, "127.0.0.1", 8123, tmp_path / ".env") == 0
    [config] = served
    assert (config.host, config.port) == ("127.0.0.1", 8123)
    # Longer than a client keeps an idle connection: an AWS load balancer's default is 60 s.
    assert config.timeout_keep_alive == KEEP_ALIVE_S > 60
    assert isinstance(config.app, FastAPI)
    transport = httpx.ASGITransport(app=config.app)
    async with httpx.AsyncClient(transport=transport, base_url=BOT) as client:
        page = await client.get("/setup")
    assert page.status_code == 200 and "https://github.com" in page.text
