"""The bot and the sandbox, run either in this process (threads, each with its own event loop:
the demo) or as real ``promotion-bot serve`` and ``promotion-bot sandbox`` processes (the
end-to-end tests). Both bots run ``bootstrap.run_bot`` and are probed the same way, over HTTP.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Protocol, TypeVar

import httpx

from bot.adapters.worker import RetryPolicy
from bot.settings import ENV_PREFIX, Settings

HOST = "127.0.0.1"
# Starting loads githubkit's models (seconds); under load on 2 cores it has taken 12 s.
START_TIMEOUT_S = 60.0
# How long a stopped bot gets to finish its running jobs before it is killed.
STOP_GRACE_S = 30.0
DEADLINE_S = 20.0
T = TypeVar("T")


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def executable() -> str:
    """The installed ``promotion-bot``: this interpreter's, else the one on ``PATH``."""
    beside = Path(sys.executable).with_name("promotion-bot")
    return str(beside) if beside.exists() else shutil.which("promotion-bot") or str(beside)


class Sandbox(Protocol):
    """A running sandbox: where it listens, and how to stop it."""

    url: str

    def stop(self) -> None:
        """Stop serving."""


class BotProbes:
    """What anyone can see of a running bot over HTTP."""

    url: str

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def queue(self) -> dict[str, int]:
        stats: dict[str, int] = httpx.get(f"{self.url}/readyz", timeout=5.0).json()["queue"]
        return stats

    def idle(self) -> bool:
        """No job waiting or running (deliveries are acknowledged before they are queued)."""
        stats = self.queue()
        return stats["ready"] == 0 and stats["leased"] == 0

    def await_health(self, failure: Callable[[], str | None]) -> None:
        """Wait for ``/healthz``; ``failure`` says why the bot cannot come up, if it cannot."""

        def up() -> bool:
            problem = failure()
            if problem is not None:
                raise RuntimeError(f"starting the bot failed url={self.url}: {problem}")
            return self.healthy()

        wait_until(up, f"the bot to answer url={self.url}", START_TIMEOUT_S)


class BotThread(BotProbes):
    """``run_bot`` in a thread of this process with its own event loop, on a bound socket."""

    def __init__(
        self, settings: Settings, listener: socket.socket, retry: RetryPolicy | None = None
    ) -> None:
        self.url = f"http://{HOST}:{listener.getsockname()[1]}"
        self._settings = settings
        self._listener = listener
        self._retry = retry
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bot", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.await_health(self._failure)

    def _failure(self) -> str | None:
        if self._error is not None:
            return f"{type(self._error).__name__}: {self._error}"
        return None if self._thread.is_alive() else "its thread ended"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=START_TIMEOUT_S)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as err:  # reported to the starting thread by ``start``
            self._error = err

    async def _serve(self) -> None:
        # Imported here: a broken adapter or use case then fails the step that starts the bot,
        # with its name, instead of every ``promotion-bot`` command at import time.
        from bot.bootstrap import run_bot  # noqa: PLC0415

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await run_bot(self._settings, sockets=[self._listener], stop=self._stop, retry=self._retry)


class BotProcess(BotProbes):
    """``promotion-bot serve`` (or ``command``: ``worker``) on a fixed port in ``workdir`` with
    the settings ``options`` (field -> value, passed as ``PROMOTION_BOT_*`` variables); can be
    killed and started again."""

    def __init__(
        self, port: int, options: Mapping[str, str], workdir: Path, command: str = "serve"
    ) -> None:
        self.url = f"http://{HOST}:{port}"
        self.port = port
        self.command = command
        # Only ``options``: a ``PROMOTION_BOT_*`` variable of the caller's must not reach it.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        self.env = inherited | {ENV_PREFIX + k.upper(): v for k, v in options.items()}
        self.workdir = workdir
        self.log = workdir / ("bot.log" if command == "serve" else f"bot-{command}-{port}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [executable(), self.command, "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                argv, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self.await_health(self._failure)
        except BaseException:
            self.stop()  # a bot that did not come up in time is not left running
            raise

    def replica(self, command: str) -> BotProcess:
        """Another process on the same settings and queue, on a port of its own: ``worker``
        beside ``serve`` (PostgreSQL)."""
        other = BotProcess(free_port(), {}, self.workdir, command)
        other.env = dict(self.env)
        return other

    def _failure(self) -> str | None:
        if self.proc is None or self.proc.poll() is None:
            return None
        return f"exited code={self.proc.returncode}:\n{self.log_tail()}"

    def kill(self) -> None:
        """As a crash would: no shutdown, leased jobs stay leased."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, and the shutdown's time to finish running jobs (the worker lets them end),
        longer on a loaded machine; then SIGKILL rather than a process left behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class SandboxProcess:
    """``promotion-bot sandbox`` over a data directory; its admin token is read from stdout."""

    def __init__(self, data: Path, log: Path, *, port: int = 0, rate_limit: int = 100_000) -> None:
        self.url = f"http://{HOST}:{port or free_port()}"
        command = [executable(), "sandbox", "--port", self.url.rsplit(":", 1)[1]]
        command += ["--data", str(data), "--rate-limit", str(rate_limit)]
        self._log: IO[str] = log.open("w")
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.admin_token = self._read_token()

    def _read_token(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("admin token"):
                return line.rsplit(":", 1)[1].strip()
        self._log.close()
        raise RuntimeError(f"starting the sandbox failed url={self.url}: exited without a token")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._log.close()
