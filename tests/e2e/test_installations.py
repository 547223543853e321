"""Installations as they are now: a push from a registry outside GitHub (it names no
installation) reaches an installation made a moment ago; a repository the installation cannot
reach, or an installation the App does not have, fails the job once, with its reason."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from bot.entrypoints.webhooks import sign
from tests.e2e.harness import GENERIC_REGISTRY_TOKEN, organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, directory_config, directory_repo
from tests.e2e.test_promotion import publish, pull_for, setup
from tests.entrypoints.payloads import tagged_ghcr_push


def push_to_generic_registry(stack: Stack, image: str, tag: str) -> None:
    body = json.dumps({"image": image, "tag": tag}).encode()
    digest = hmac.new(GENERIC_REGISTRY_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    response = httpx.post(
        f"{stack.bot.url}/webhooks/registry/generic",
        content=body,
        headers={"content-type": "application/json", "x-signature-256": f"sha256={digest}"},
    )
    assert response.status_code == 202, response.text


def test_a_push_right_after_an_installation_reaches_it(stack: Stack) -> None:
    first = setup(stack, "installed-before")
    push_to_generic_registry(stack, f"ghcr.io/{first.name}/api", "1.3.0")
    pull_for(first, "dev", "1.3.0")  # the bot has just listed the App's installations
    second = setup(stack, "installed-after")  # a new installation, seconds later
    push_to_generic_registry(stack, f"ghcr.io/{second.name}/api", "1.3.0")
    pull_for(second, "dev", "1.3.0")


def test_a_configured_repository_the_installation_cannot_reach_fails_once(stack: Stack) -> None:
    """dev lives in a repository the App is not installed on: the push's job is dead-lettered
    at its first attempt (after one more look at the repository list), not retried 8 times."""
    config = directory_config("unreachable").replace(
        "path: envs/dev", "repo: nowhere/dev-env\n    path: envs/dev"
    )
    files = directory_repo("unreachable") | {CONFIG_FILE: config}
    org = organisation(stack, "unreachable", {"env": files, "api": APP_REPO})
    stack.settle()
    dead = stack.bot.queue()["dead"]
    publish(stack, org, "1.3.0")
    wait_until(lambda: stack.bot.queue()["dead"] == dead + 1, "the push's job dead-lettered", 10)
    stack.settle()
    assert stack.bot.queue()["dead"] == dead + 1


def test_an_event_for_an_installation_the_app_does_not_have_fails_once(stack: Stack) -> None:
    payload = tagged_ghcr_push("1.3.0") | {"installation": {"id": 987654321}}
    body = json.dumps(payload).encode()
    stack.settle()
    dead = stack.bot.queue()["dead"]
    response = httpx.post(
        f"{stack.bot.url}/webhooks/github",
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "registry_package",
            "x-github-delivery": "e2e-unknown-installation",
            "x-hub-signature-256": sign(stack.app.webhook_secret.encode(), body),
        },
    )
    assert response.status_code == 202, response.text
    wait_until(lambda: stack.bot.queue()["dead"] == dead + 1, "the event's job dead-lettered", 10)
    stack.settle()
    assert stack.bot.queue()["dead"] == dead + 1
