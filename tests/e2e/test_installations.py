"""Installations as they are now: a push from a registry outside GitHub (it names no
installation) reaches an installation made a moment ago."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from bot.demo.harness import Stack
from tests.e2e.harness import GENERIC_REGISTRY_TOKEN
from tests.e2e.test_promotion import pull_for, setup


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
