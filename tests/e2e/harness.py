"""Two real processes on loopback: ``promotion-bot sandbox`` and ``promotion-bot serve``.

The App is registered in the sandbox with its webhook pointing at the bot's port, then the bot
starts with settings from ``PROMOTION_BOT_*`` variables naming that App. Each test builds its own
organisation (repositories, installation, one person with write access) so tests share the two
processes and stay independent. Everything is awaited by polling with a deadline.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from githubkit import AppAuthStrategy, GitHub

from bot.sandbox import admin_client as calls
from bot.sandbox.admin_client import AdminClient, AppCredentials

HOST = "127.0.0.1"
DEADLINE_S = 20.0
T = TypeVar("T")

PERMISSIONS = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "packages": "read",
    "metadata": "read",
}
EVENTS = [
    "push",
    "create",
    "release",
    "registry_package",
    "pull_request",
    "issue_comment",
    "check_run",
]


def executable() -> str:
    """The installed ``promotion-bot`` (the venv's when ``PATH`` does not name one)."""
    return shutil.which("promotion-bot") or str(Path(sys.executable).with_name("promotion-bot"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], T | None], what: str, timeout: float = DEADLINE_S) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class SandboxProcess:
    """``promotion-bot sandbox`` over a data directory, with its admin token."""

    def __init__(self, data: Path, log: Path) -> None:
        self.url = f"http://{HOST}:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        command = [executable(), "sandbox", "--port", port, "--data", str(data)]
        command += ["--rate-limit", "100000"]  # polling reads from every test share a token
        self._log = log.open("w")
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True)
        token = self._read_token()
        self.admin = AdminClient(self.url, token=token)

    def _read_token(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("admin token"):
                return line.rsplit(":", 1)[1].strip()
        raise RuntimeError(f"starting sandbox failed url={self.url}: exited without a token")

    def stop(self) -> None:
        self.admin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._log.close()


class BotProcess:
    """``promotion-bot serve`` on a fixed port; can be killed and started again."""

    def __init__(self, port: int, env: Mapping[str, str], workdir: Path) -> None:
        self.url = f"http://{HOST}:{port}"
        self.port = port
        self.env = {**os.environ, **env}
        self.workdir = workdir
        self.log = workdir / "bot.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [executable(), "serve", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(self._healthy, f"bot to answer url={self.url}")
        if not self._runs_adapter():
            raise RuntimeError(
                "the bot process does not run the GitHub adapter: `promotion-bot serve` must "
                "route events through bootstrap.build_router(GitHubGateway.ports_for, clock); "
                f"bot log:\n{self.log_tail()}"
            )

    def _runs_adapter(self) -> bool:
        """Whether the gateway started: it logs once, at start, whether or not GitHub answered."""
        marks = ("github gateway ready", "reading the app's identity at start failed")
        try:
            wait_until(lambda: any(m in self.log_tail(200) for m in marks), "gateway", 5.0)
        except AssertionError:
            return False
        return True

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"bot exited code={self.proc.returncode}: {self.log_tail()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """As a crash would: no shutdown, leased jobs stay leased."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def queue(self) -> dict[str, int]:
        stats: dict[str, int] = httpx.get(f"{self.url}/readyz", timeout=5.0).json()["queue"]
        return stats

    def idle(self) -> bool:
        """No job waiting or running (deliveries are acknowledged before they are queued)."""
        stats = self.queue()
        return stats["ready"] == 0 and stats["leased"] == 0

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class View:
    """REST reads as one person of an organisation (what they would see on GitHub)."""

    def __init__(self, base_url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=10.0)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def pulls(self, repo: str, state: str = "all") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(f"/repos/{repo}/pulls", state=state, per_page=100)
        return found

    def heads(self, repo: str) -> dict[str, str]:
        refs = self.get(f"/repos/{repo}/git/matching-refs/heads/")
        return {r["ref"].removeprefix("refs/heads/"): r["object"]["sha"] for r in refs}

    def file(self, repo: str, path: str, ref: str) -> bytes:
        """The file's bytes at ``ref`` (the contents API answers base64)."""
        return base64.b64decode(self.get(f"/repos/{repo}/contents/{path}", ref=ref)["content"])

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(f"/repos/{repo}/issues/{number}/comments")
        return found


@dataclass
class Org:
    """One test's organisation: its installation and a person with write access."""

    name: str
    installation_id: int
    person: str
    view: View

    def repo(self, name: str) -> str:
        return f"{self.name}/{name}"


@dataclass
class Stack:
    """The running sandbox and bot, and the App between them."""

    sandbox: SandboxProcess
    bot: BotProcess
    app: AppCredentials

    @property
    def admin(self) -> AdminClient:
        return self.sandbox.admin

    def organisation(
        self,
        name: str,
        repos: Mapping[str, Mapping[str, str]],
        branches: Mapping[str, Mapping[str, Mapping[str, str | None]]] | None = None,
    ) -> Org:
        """Create ``repos`` (name -> files on main; ``branches``: name -> branch -> files) under
        ``name``, install the App on all of them, and give one person write access."""
        for repo, files in repos.items():
            more = (branches or {}).get(repo)
            self.admin.run(calls.create_repo(name, repo, files=files, branches=more))
        installation = self.admin.run(calls.install_app(self.app.id, name))
        person = self.admin.run(calls.create_user(f"{name}-dev"))
        for repo in repos:
            self.admin.run(calls.grant_role(name, repo, person.login, "write"))
        return Org(name, installation.id, person.login, View(self.sandbox.url, person.token))

    def app_github(self) -> GitHub[AppAuthStrategy]:
        """githubkit as the App itself (JWT): webhook deliveries and redeliveries."""
        return GitHub(AppAuthStrategy(self.app.id, self.app.pem), base_url=self.sandbox.url)

    def settle(self) -> None:
        """Wait until every webhook is delivered and the bot's queue is empty."""
        self.admin.run(calls.flush_deliveries())
        wait_until(self.bot.idle, "the bot's queue to drain")


def start_stack(workdir: Path) -> Stack:
    sandbox = SandboxProcess(workdir / "sandbox", workdir / "sandbox.log")
    try:
        port = free_port()
        app = sandbox.admin.run(
            calls.create_app(
                "promotion-bot",
                owner="bot-owners",
                webhook_url=f"http://{HOST}:{port}/webhooks/github",
                permissions=PERMISSIONS,
                events=EVENTS,
            )
        )
        bot = BotProcess(port, bot_env(app, sandbox.url, workdir), workdir)
        bot.start()
    except BaseException:
        sandbox.stop()
        raise
    return Stack(sandbox, bot, app)


def bot_env(app: AppCredentials, api_url: str, workdir: Path) -> dict[str, str]:
    return {
        "PROMOTION_BOT_APP_ID": str(app.id),
        "PROMOTION_BOT_PRIVATE_KEY": app.pem,
        "PROMOTION_BOT_WEBHOOK_SECRET": app.webhook_secret,
        "PROMOTION_BOT_GITHUB_URL": api_url,
        "PROMOTION_BOT_QUEUE_PATH": str(workdir / "queue.sqlite3"),
        "PROMOTION_BOT_WORKERS": "2",
        # A killed bot's leased jobs come back after this long, not after the default 5 minutes.
        "PROMOTION_BOT_LEASE_SECONDS": "2",
        "PROMOTION_BOT_LOG_LEVEL": "INFO",
    }
