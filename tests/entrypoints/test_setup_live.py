"""From no ``.env`` to an installed app receiving a webhook, over real loopback HTTP.

The setup pages run on a port, an httpx client walks them and the sandbox's manifest pages like
a person; then ``promotion-bot serve`` is started as a process in the directory holding the
written ``.env`` (nothing in its environment), the install form is submitted, and the sandbox's
signed ``installation`` delivery must be accepted by the bot. Every line the bot logs is JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bot.demo.runners import START_TIMEOUT_S
from bot.entrypoints.setup import create_setup_app
from bot.settings import ENV_PREFIX, Settings
from github_sandbox import admin_client as calls
from github_sandbox.admin_client import AsyncAdminClient
from github_sandbox.server import SandboxHandle, run_sandbox
from tests.adapters.test_redelivery import free_port
from tests.entrypoints.test_setup import only_form, register, submit

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
def live(tmp_path: Path) -> Iterator[SandboxHandle]:
    handle = run_sandbox(tmp_path / "sandbox")
    yield handle
    handle.stop()


def serve_in_thread(app: FastAPI, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "setup server did not start"
        time.sleep(0.02)
    return server, thread


def start_bot(workdir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(url: str, bot: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S  # githubkit's models load slowly under load
    while time.monotonic() < deadline:
        assert bot.poll() is None, f"bot exited: {bot.communicate()[1]}"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("bot did not become ready")


async def test_from_no_env_to_a_delivered_webhook(live: SandboxHandle, tmp_path: Path) -> None:
    port = free_port()
    bot_url = f"http://127.0.0.1:{port}"
    env = tmp_path / ".env"
    setup = create_setup_app(Settings(github_url=live.url, _env_file=None), env)
    server, thread = serve_in_thread(setup, port)
    async with httpx.AsyncClient(timeout=10) as client:
        back = await register(client, bot_url, org="acme")
        to_install = await client.get(back.headers["location"])
        server.should_exit = True
        install_page = await client.get(to_install.headers["location"])
        assert install_page.status_code == 200 and "Install" in install_page.text
        assert oct(env.stat().st_mode & 0o777) == "0o600"

        thread.join(10)  # the port must be free before the bot takes it
        bot = start_bot(tmp_path, port)
        try:
            wait_ready(bot_url, bot)
            installed = await submit(client, only_form(install_page))
            assert installed.headers["location"].startswith(f"{bot_url}/setup/installed?")
            welcome = await client.get(installed.headers["location"])
            assert welcome.status_code == 200 and "Promotion Bot is installed" in welcome.text
            scrape = await client.get(f"{bot_url}/metrics")
            assert 'promotion_bot_queue_jobs{state="ready"}' in scrape.text
            admin = AsyncAdminClient(live.url)
            assert await admin.run(calls.flush_deliveries())
            [delivery] = await admin.run(calls.deliveries(event="installation"))
            await admin.aclose()
        finally:
            bot.terminate()
            _, stderr = bot.communicate(timeout=20)
    assert (delivery["status"], delivery["status_code"]) == ("OK", 202)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    accepted = [line for line in lines if line["msg"].startswith("accepted delivery")]
    assert [line.get("delivery_id") for line in accepted] == [delivery["guid"]]
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
