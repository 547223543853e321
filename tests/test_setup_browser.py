"""What a person sees, in headless Chromium: the setup page, the hand-off to GitHub (the page's
script posts the manifest; the sandbox shows its confirm page) and a promotion pull request's page
in the sandbox. Screenshots go to ``test-artifacts/``.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); skipped only when it is missing.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from bot.entrypoints.setup import create_setup_app
from bot.settings import Settings
from github_sandbox import admin_client as calls
from github_sandbox.server import SandboxHandle
from tests.adapters.test_redelivery import free_port
from tests.sandbox.conftest import World, seeded_live

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


def chromium(url: str, screenshot: Path | None = None) -> str:
    """The page's DOM after its scripts ran (and navigations settled), optionally a screenshot."""
    assert CHROMIUM is not None
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    base += ["--disable-dev-shm-usage", "--virtual-time-budget=5000", "--window-size=1100,900"]
    if screenshot is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(
            [*base, f"--screenshot={screenshot}", url], check=True, timeout=60, capture_output=True
        )
        assert screenshot.stat().st_size > 1000
    done = subprocess.run([*base, "--dump-dom", url], check=True, timeout=60, capture_output=True)
    return done.stdout.decode()


@pytest.fixture
def setup_url(live_sandbox: SandboxHandle, tmp_path: Path) -> Iterator[str]:
    app: FastAPI = create_setup_app(
        Settings(github_url=live_sandbox.url, _env_file=None), tmp_path / ".env"
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
async def world(live_sandbox: SandboxHandle) -> AsyncIterator[World]:
    async with seeded_live(live_sandbox) as seeded:
        yield seeded


def test_setup_page_and_the_hand_off_to_github(setup_url: str, tmp_path: Path) -> None:
    page = chromium(f"{setup_url}/setup", ARTIFACTS / "setup-page.png")
    assert "Set up Promotion Bot" in page and "Register GitHub App" in page
    assert 'name="org"' in page and f'value="{setup_url}"' in page

    # A person fills in the organisation and presses the button: the page's form, auto-posted.
    start = tmp_path / "start.html"
    start.write_text(
        f'<form method="post" action="{html.escape(setup_url)}/setup/start">'
        '<input name="org" value="acme"><input name="name" value="acme-promoter">'
        f'<input name="public_url" value="{html.escape(setup_url)}"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    confirm = chromium(start.as_uri(), ARTIFACTS / "setup-github-confirm.png")
    assert "Create GitHub App acme-promoter" in confirm
    assert f"Webhook: {setup_url}/webhooks/github" in confirm
    assert "pull_requests: write" in confirm and "contents: write" in confirm


async def test_pull_request_page(world: World) -> None:
    files = {"apps/web/values.yaml": "image:\n  tag: 1.1.0\n"}
    await world.admin.run(
        calls.push("acme", "env", pusher="acme", branch="promote/web-prod", files=files)
    )
    github = world.installation_github()
    pull = await github.rest.pulls.async_create(
        "acme",
        "env",
        title="Promote web 1.1.0 to prod",
        head="promote/web-prod",
        base="main",
        body="Promotes **web** from `1.0.0` to `1.1.0`.",
    )
    page = chromium(pull.parsed_data.html_url, ARTIFACTS / "sandbox-pull-request.png")
    assert "Promote web 1.1.0 to prod" in page
    assert "tag: 1.1.0" in page and "apps/web/values.yaml" in page
