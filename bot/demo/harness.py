"""The sandbox and the real bot on loopback, for the demo, the benchmarks and the end-to-end
tests.

``start_stack(data_dir)`` serves the GitHub sandbox, registers the App there with its webhook
pointing at the bot, and serves the real bot (``bootstrap.run_bot``: web app, SQLite queue,
worker, reconcile scheduler, ``GitHubGateway``) on a second loopback port. Both run in this
process by default (threads, the demo); with ``processes=True`` they are the real
``promotion-bot sandbox`` and ``promotion-bot serve`` processes (the end-to-end tests). Nothing
leaves the machine::

    stack = start_stack(tmp_path)
    try:
        seed_people(stack.admin, {"alice": "Alice"})
        stack.admin.run(calls.create_repo("acme", "env", files={...}))
        stack.install("acme")
        view = stack.view(token)     # REST reads as a person (a ``seed_people`` token)
        stack.settle()               # every webhook delivered, the bot's queue empty
    finally:
        stack.stop()
"""

from __future__ import annotations

import base64
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from githubkit import AppAuthStrategy, GitHub

from bot.adapters.worker import RetryPolicy
from bot.demo.runners import (
    HOST,
    BotProcess,
    BotThread,
    Sandbox,
    SandboxProcess,
    free_port,
    wait_until,
)
from bot.entrypoints.setup import find_manifest
from bot.settings import load_settings
from github_sandbox import admin_client as calls
from github_sandbox.admin_client import AdminClient, AppCredentials, Call, UserToken
from github_sandbox.server import run_sandbox

APP_NAME = "promotion-bot"
# The App the demo and the tests register asks for what the real one does: its manifest's.
_MANIFEST = yaml.safe_load(find_manifest().read_text(encoding="utf-8"))
PERMISSIONS: dict[str, str] = dict(_MANIFEST["default_permissions"])
EVENTS: list[str] = list(_MANIFEST["default_events"])
# Short retries: in the demo a failing job should show within seconds, not minutes.
DEMO_RETRIES = RetryPolicy(base=timedelta(seconds=0.5), cap=timedelta(seconds=2), max_attempts=3)


class GitHubView:
    """Plain REST reads of the sandbox as one person (what they would see on GitHub)."""

    def __init__(self, base_url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=10.0)

    def get(self, path: str, **params: Any) -> Any:
        response = self._http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def pulls(self, repo: str, state: str = "all") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(f"/repos/{repo}/pulls", state=state, per_page=100)
        return found

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(f"/repos/{repo}/issues/{number}/comments")
        return found

    def heads(self, repo: str) -> dict[str, str]:
        """Branch name -> head sha."""
        refs = self.get(f"/repos/{repo}/git/matching-refs/heads/")
        return {r["ref"].removeprefix("refs/heads/"): r["object"]["sha"] for r in refs}

    def check_runs(self, repo: str, sha: str) -> list[dict[str, Any]]:
        return list(self.get(f"/repos/{repo}/commits/{sha}/check-runs")["check_runs"])

    def file(self, repo: str, path: str, ref: str) -> str:
        """The file's text at ``ref``, decoded from the base64 the contents API answers."""
        data = self.get(f"/repos/{repo}/contents/{path}", ref=ref)
        return base64.b64decode(data["content"]).decode("utf-8")

    def close(self) -> None:
        self._http.close()


@dataclass
class Stack:
    """A running sandbox with the App registered, and the bot serving that App."""

    data_dir: Path
    sandbox: Sandbox
    bot: BotThread | BotProcess
    admin: AdminClient
    app: AppCredentials
    installation_id: int | None = None

    @property
    def url(self) -> str:
        return self.sandbox.url

    def install(self, account: str, repositories: list[str] | None = None) -> int:
        """Install the App on ``account`` (all its repositories by default)."""
        ref = self.admin.run(calls.install_app(self.app.id, account, repositories=repositories))
        self.installation_id = ref.id
        return ref.id

    def view(self, token: str) -> GitHubView:
        return GitHubView(self.sandbox.url, token)

    def app_github(self) -> GitHub[AppAuthStrategy]:
        """githubkit as the App itself (JWT): webhook deliveries and redeliveries."""
        return GitHub(AppAuthStrategy(self.app.id, self.app.pem), base_url=self.sandbox.url)

    def deliver_all(self) -> None:
        """Wait until the sandbox has sent every webhook queued (each flush waits 10 s)."""
        wait_until(lambda: self.admin.run(calls.flush_deliveries()), "the sandbox's webhooks")

    def settle(self) -> None:
        """Wait until every webhook is delivered and the bot's queue is empty."""
        self.deliver_all()
        wait_until(self.bot.idle, "the bot's queue to drain")

    def stop(self) -> None:
        self.bot.stop()
        self.admin.close()
        self.sandbox.stop()


def bot_options(data_dir: Path, app: AppCredentials, api_url: str) -> dict[str, str]:
    """The bot's settings for ``app`` (field -> value): the bot's state lives in ``data_dir``."""
    return {
        "app_id": str(app.id),
        "private_key": app.pem,
        "webhook_secret": app.webhook_secret,
        "github_url": api_url,
        "queue_path": str(data_dir / "bot-queue.sqlite3"),
        "workers": "2",
        "request_timeout": "10",
    }


def serve_app(
    admin: AdminClient,
    api_url: str,
    data_dir: Path,
    *,
    owner: str,
    name: str = APP_NAME,
    processes: bool = False,
    options: Mapping[str, str] | None = None,
) -> tuple[AppCredentials, BotThread | BotProcess]:
    """Register an App whose webhook points at a new bot, and start that bot for it.
    ``options`` add to or replace ``bot_options`` (e.g. ``reconcile_interval``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # The App must name the bot's URL and the bot must know the App: choose the port first.
    listener = None if processes else socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if listener is not None:
            listener.bind((HOST, 0))
        port = free_port() if listener is None else listener.getsockname()[1]
        app = admin.run(
            calls.create_app(
                name,
                owner=owner,
                webhook_url=f"http://{HOST}:{port}/webhooks/github",
                permissions=PERMISSIONS,
                events=EVENTS,
            )
        )
        settings = bot_options(data_dir, app, api_url) | dict(options or {})
        bot: BotThread | BotProcess
        if listener is None:
            bot = BotProcess(port, settings, data_dir)
        else:
            # Given in-process, explicit values win over ``PROMOTION_BOT_*`` variables and .env.
            bot = BotThread(load_settings(**settings, demo=True), listener, DEMO_RETRIES)
        bot.start()
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    return app, bot


def start_stack(
    data_dir: Path,
    *,
    sandbox_port: int = 0,
    org: str = "acme",
    processes: bool = False,
    options: Mapping[str, str] | None = None,
) -> Stack:
    """Serve the sandbox and the bot over ``data_dir`` on free loopback ports (or
    ``sandbox_port``); the App belongs to ``org`` and is not installed yet (``Stack.install``).
    With ``processes``, both are ``promotion-bot`` processes and the bot is not in demo mode."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sandbox: Sandbox
    if processes:
        sandbox = SandboxProcess(data_dir / "sandbox", data_dir / "sandbox.log", port=sandbox_port)
        token = sandbox.admin_token
    else:
        token = secrets.token_hex(16)
        sandbox = run_sandbox(data_dir / "sandbox", port=sandbox_port, host=HOST, admin_token=token)
    admin = AdminClient(sandbox.url, token=token)
    try:
        app, bot = serve_app(
            admin, sandbox.url, data_dir, owner=org, processes=processes, options=options
        )
    except BaseException:
        admin.close()
        sandbox.stop()
        raise
    return Stack(data_dir, sandbox, bot, admin, app)


def seed_people(admin: AdminClient, people: Mapping[str, str]) -> dict[str, UserToken]:
    """Create each ``login -> name`` user; their tokens act through the REST API."""
    return {login: admin.run(calls.create_user(login, name=name)) for login, name in people.items()}


def open_pull_as(
    user: str, repo: str, *, head: str, base: str, title: str, body: str = ""
) -> Call[dict[str, Any]]:
    """A person opens a pull request (admin act: checked against their role)."""
    payload = {"user": user, "head": head, "base": base, "title": title, "body": body}
    return Call("POST", f"/_sandbox/repos/{repo}/pulls", _json, payload)


def merge_as(user: str, repo: str, number: int) -> Call[dict[str, Any]]:
    """A person presses "Merge" on a pull request (admin act: checked against their role)."""
    payload = {"user": user, "merge_method": "merge"}
    return Call("POST", f"/_sandbox/repos/{repo}/pulls/{number}/merge", _json, payload)


def _json(data: Any) -> dict[str, Any]:
    return dict(data)
