"""The sandbox and the real bot on loopback, for the demo and the end-to-end tests.

``start_stack(data_dir)`` serves the GitHub sandbox (uvicorn thread), registers the App there
with its webhook pointing at the bot, and serves the real bot (web app, SQLite queue, worker,
``bootstrap`` routing table over the githubkit ``GitHubGateway``) on a second loopback port, in
its own thread and event loop. Nothing leaves the machine::

    stack = start_stack(tmp_path)
    try:
        seed_people(stack.admin, {"alice": "Alice"})
        stack.admin.run(calls.create_repo("acme", "env", files={...}))
        stack.install("acme")
        view = stack.view(token)     # REST reads as a person (a ``seed_people`` token)
    finally:
        stack.stop()
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import RetryPolicy, Worker
from bot.cli.serve import JsonFormatter
from bot.sandbox import admin_client as calls
from bot.sandbox.admin_client import AdminClient, AppCredentials, Call, UserToken
from bot.sandbox.server import SandboxHandle, run_sandbox
from bot.settings import Settings, load_settings

HOST = "127.0.0.1"
APP_NAME = "promotion-bot"
PERMISSIONS = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "packages": "read",
    "members": "read",
    "metadata": "read",
}
EVENTS = ["push", "create", "release", "registry_package", "pull_request", "issue_comment"]
START_TIMEOUT_S = 15.0
# Short retries: in the demo a failing job should show within seconds, not minutes.
DEMO_RETRIES = RetryPolicy(base=timedelta(seconds=0.5), cap=timedelta(seconds=2), max_attempts=3)


class BotHandle:
    """The bot served by uvicorn from a thread of its own (its own event loop)."""

    def __init__(self, settings: Settings, listener: socket.socket) -> None:
        self.url = f"http://{HOST}:{listener.getsockname()[1]}"
        self._settings = settings
        self._listener = listener
        self._server: uvicorn.Server | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bot-http", daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._server is None or not self._server.started:
            if self._error is not None:
                raise RuntimeError(f"starting the bot failed url={self.url}") from self._error
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"starting the bot failed url={self.url}: it did not listen")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as err:  # reported to the starting thread by ``start``
            self._error = err

    async def _serve(self) -> None:
        # Imported here: a missing or broken adapter or use case then fails the step that starts
        # the bot, with its name, instead of every ``promotion-bot`` command at import time.
        from bot.adapters.github import GitHubGateway  # noqa: PLC0415
        from bot.bootstrap import build_router  # noqa: PLC0415
        from bot.entrypoints.routing import JobProcessor  # noqa: PLC0415
        from bot.entrypoints.web import create_app  # noqa: PLC0415

        settings = self._settings
        queue = SqliteJobQueue(settings.queue_path, lease=timedelta(seconds=settings.lease_seconds))
        try:
            async with GitHubGateway.from_settings(settings) as gateway:
                router, _ = build_router(gateway.ports_for, lambda: datetime.now(UTC))
                worker = Worker(
                    queue,
                    JobProcessor(queue, router),
                    concurrency=settings.workers,
                    policy=DEMO_RETRIES,
                    poll_interval=0.05,
                )
                app = create_app(settings, queue, worker)
                config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
                self._server = uvicorn.Server(config)
                await self._server.serve(sockets=[self._listener])
        finally:
            queue.close()


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
    sandbox: SandboxHandle
    bot: BotHandle
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

    def stop(self) -> None:
        self.bot.stop()
        self.admin.close()
        self.sandbox.stop()


def bot_settings(data_dir: Path, app: AppCredentials, api_url: str) -> Settings:
    """The bot's settings, given in-process: nothing is read from the environment that matters
    (explicit values win over ``PROMOTION_BOT_*`` variables and ``.env``)."""
    return load_settings(
        app_id=app.id,
        private_key=app.pem,
        webhook_secret=app.webhook_secret,
        github_url=api_url,
        queue_path=data_dir / "bot-queue.sqlite3",
        workers=2,
        request_timeout=10.0,
        demo=True,
    )


def log_to_file(path: Path) -> logging.Handler:
    """Send the bot's and the sandbox's log records to ``path`` as JSON lines (the terminal is
    the demo's); returns the handler so the caller can remove it."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    return handler


def start_stack(data_dir: Path, *, sandbox_port: int = 0, org: str = "acme") -> Stack:
    """Serve the sandbox and the bot over ``data_dir`` on free loopback ports (or
    ``sandbox_port``); the App belongs to ``org`` and is not installed yet (``Stack.install``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    admin_token = secrets.token_hex(16)
    sandbox = run_sandbox(
        data_dir / "sandbox", port=sandbox_port, host=HOST, admin_token=admin_token
    )
    admin = AdminClient(sandbox.url, token=admin_token)
    # The App must name the bot's URL and the bot must know the App: bind first, then tell.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((HOST, 0))
        webhook_url = f"http://{HOST}:{listener.getsockname()[1]}/webhooks/github"
        app = admin.run(
            calls.create_app(
                APP_NAME, owner=org, webhook_url=webhook_url, permissions=PERMISSIONS, events=EVENTS
            )
        )
        bot = BotHandle(bot_settings(data_dir, app, sandbox.url), listener)
        bot.start()
    except BaseException:
        listener.close()
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
