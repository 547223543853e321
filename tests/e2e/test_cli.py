"""The command line as a person runs it: ``promotion-bot serve`` without credentials serves the
setup page; ``promotion-bot replay`` with credentials feeds a saved delivery through the wired
use cases to GitHub (the sandbox)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from bot.demo.harness import EVENTS, PERMISSIONS, Stack, bot_options
from bot.demo.runners import HOST, BotProcess, executable, free_port
from bot.settings import ENV_PREFIX
from github_sandbox import admin_client as calls
from tests.e2e.test_promotion import publish, pull_for, setup


def test_serve_without_credentials_serves_the_setup_page(tmp_path: Path) -> None:
    bot = BotProcess(free_port(), {}, tmp_path)
    bot.start()
    try:
        page = httpx.get(f"{bot.url}/setup", timeout=5.0)
        assert page.status_code == 200 and "<form" in page.text
        assert httpx.get(f"{bot.url}/readyz", timeout=5.0).status_code == 503
    finally:
        bot.stop()


def test_replay_runs_a_saved_delivery_through_the_use_cases(stack: Stack, tmp_path: Path) -> None:
    # An App whose webhook reaches no bot: the delivery fails, and the replay is the only way in.
    unserved = stack.admin.run(
        calls.create_app(
            "promotion-bot-replay",
            owner="bot-owners",
            webhook_url=f"http://{HOST}:{free_port()}/webhooks/github",
            permissions=PERMISSIONS,
            events=EVENTS,
        )
    )
    replayed = Stack(tmp_path, stack.sandbox, stack.bot, stack.admin, unserved)
    org = setup(replayed, "replayed")
    publish(stack, org, "1.3.0")
    stack.deliver_all()
    github = replayed.app_github()
    listed = github.rest.apps.list_webhook_deliveries(per_page=100).parsed_data
    [delivery] = [d for d in listed if d.event == "registry_package" and d.status != "OK"]
    saved = tmp_path / "registry_package.published.json"
    payload = github.rest.apps.get_webhook_delivery(delivery.id).json()["request"]["payload"]
    saved.write_text(json.dumps(payload), encoding="utf-8")
    env = {ENV_PREFIX + k.upper(): v for k, v in bot_options(tmp_path, unserved, stack.url).items()}
    done = subprocess.run(
        [executable(), "replay", "registry_package", str(saved)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["event"] for line in done.stdout.splitlines()] == ["ImagePushed"]
    assert "dry run" not in done.stderr
    assert pull_for(org, "dev", "1.3.0")["user"]["login"] == "promotion-bot-replay[bot]"
