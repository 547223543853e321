"""The redelivery sweeper: which GUIDs it picks (table), its state file, and a live sweep against
the sandbox: deliveries fail while the webhook points at a closed port, the port opens, a sweep
redelivers each failed GUID once and the next sweep finds nothing to do."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.adapters import redelivery
from bot.adapters.redelivery import (
    Attempt,
    LastRunFile,
    RedeliverySweeper,
    sweeper_from_settings,
    to_redeliver,
)
from bot.settings import Settings
from github_sandbox import admin_client as calls
from github_sandbox.server import SandboxHandle
from tests.sandbox.conftest import World, seeded_live

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def attempt(id_: int, guid: str, status: str, minutes: int = 0) -> Attempt:
    return Attempt(id_, guid, T0 + timedelta(minutes=minutes), status, "push")


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        ([], []),
        ([attempt(1, "a", "OK")], []),
        ([attempt(1, "a", "failed to connect")], [1]),
        # a failed original redelivered successfully: nothing to do
        ([attempt(2, "a", "OK", 5), attempt(1, "a", "Invalid HTTP Response: 500")], []),
        # two failed attempts: only the newest is redelivered
        ([attempt(2, "a", "failed to connect", 5), attempt(1, "a", "failed to connect")], [2]),
        # in flight at GitHub: left for the next sweep
        ([attempt(1, "a", "pending")], []),
        # oldest GUID first
        (
            [
                attempt(3, "c", "Invalid HTTP Response: 502", 9),
                attempt(2, "b", "OK", 5),
                attempt(1, "a", "failed to connect", 1),
            ],
            [1, 3],
        ),
    ],
)
def test_to_redeliver(attempts: list[Attempt], expected: list[int]) -> None:
    assert [a.id for a in to_redeliver(attempts)] == expected


def test_last_run_file_round_trip(tmp_path: Path) -> None:
    state = LastRunFile(tmp_path / "sweeper.last-run")
    assert state.read() is None
    state.write(T0)
    assert state.read() == T0
    state.path.write_text("not a time\n")
    assert state.read() is None


class Receiver:
    """A webhook receiver on a fixed loopback port, started late on purpose."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.guids: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        guids = self.guids

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                guids.append(self.headers["X-GitHub-Delivery"])
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(free_port())
    yield found
    found.stop()


@pytest.fixture
async def world(live_sandbox: SandboxHandle, receiver: Receiver) -> AsyncIterator[World]:
    async with seeded_live(
        live_sandbox, f"http://127.0.0.1:{receiver.port}/webhooks/github"
    ) as seeded:
        yield seeded


async def push_three(world: World) -> None:
    for n in range(3):
        files = {"apps/web/values.yaml": f"image:\n  tag: 1.0.{n + 1}\n"}
        await world.admin.run(
            calls.push("acme", "env", pusher="acme", files=files, message=f"bump {n}")
        )
    assert await world.admin.run(calls.flush_deliveries())


def sweeper(world: World, tmp_path: Path) -> RedeliverySweeper:
    settings = Settings(
        app_id=world.app.id,
        private_key=SecretStr(world.app.pem),
        github_url=world.base_url,
        queue_path=tmp_path / "queue.sqlite3",
        _env_file=None,
    )
    return sweeper_from_settings(settings)


async def test_sweep_redelivers_failed_guids_once(
    world: World, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redelivery, "PER_PAGE", 3)  # four failed deliveries span two pages
    await push_three(world)
    failed = await world.admin.run(calls.deliveries())  # installation.created and 3 pushes
    assert len(failed) == 4 and all(d["status"] != "OK" for d in failed)

    receiver.start()
    bot = sweeper(world, tmp_path)
    result = await bot.sweep()
    assert len(result.redelivered) == 4 and not result.failed
    assert await asyncio.to_thread(world.sandbox.webhooks.wait_idle, 10.0)
    assert sorted(receiver.guids) == sorted(d["guid"] for d in failed)

    again = await bot.sweep()
    assert again.redelivered == () and again.since >= result.since
    assert len(receiver.guids) == 4


async def test_sweep_skips_the_guids_the_bot_holds(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    """A delivery GitHub saw fail that reached the bot anyway (answered after GitHub's timeout,
    or posted again by hand): no request and no second delivery for it."""
    await push_three(world)
    listed = await world.admin.run(calls.deliveries())
    failed = sorted(listed, key=lambda d: d["id"])
    held = {failed[0]["guid"], failed[2]["guid"]}

    async def received(guid: str) -> bool:
        return guid in held

    receiver.start()
    bot = sweeper(world, tmp_path)
    bot.received = received
    result = await bot.sweep()
    assert await asyncio.to_thread(world.sandbox.webhooks.wait_idle, 10.0)
    assert sorted(a.guid for a in result.redelivered) == sorted(
        d["guid"] for d in failed if d["guid"] not in held
    )
    assert result.received == 2
    assert not held & set(receiver.guids)


async def test_sweep_without_failures_reads_one_page(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.start()
    await push_three(world)
    result = await sweeper(world, tmp_path).sweep()
    assert (result.listed, result.redelivered) == (0, ())
    assert (tmp_path / "queue.sqlite3.redelivery-last-run").is_file()


async def test_sweep_limit_takes_the_oldest(world: World, tmp_path: Path) -> None:
    await push_three(world)
    bot = sweeper(world, tmp_path)
    bot.limit = 2
    result = await bot.sweep()
    listed = await world.admin.run(calls.deliveries())
    oldest = sorted(listed, key=lambda d: d["id"])
    assert [a.guid for a in result.redelivered] == [d["guid"] for d in oldest[:2]]


async def test_sweeper_reads_a_key_file(world: World, receiver: Receiver, tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text(world.app.pem)
    settings = Settings(
        app_id=world.app.id,
        private_key_file=key,
        github_url=world.base_url,
        queue_path=tmp_path / "queue.sqlite3",
        _env_file=None,
    )
    receiver.start()
    result = await sweeper_from_settings(settings).sweep()
    assert result.redelivered == ()


@pytest.mark.parametrize(
    ("app_id", "message"), [(None, "PROMOTION_BOT_APP_ID"), (7, "PROMOTION_BOT_PRIVATE_KEY")]
)
def test_sweeper_needs_credentials(app_id: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sweeper_from_settings(Settings(app_id=app_id, _env_file=None))
