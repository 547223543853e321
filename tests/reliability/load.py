"""A load of image pushes: ``APPS`` apps spread over ``REPOS`` environment repositories of one
installation, each pushed ``len(VERSIONS)`` versions in a shuffled burst. Every app must end with
exactly one dev PR, at the highest version its policy (``minor``) allows."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from bot.demo.harness import GitHubView, Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from tests.e2e.burst import env_files
from tests.reliability.promotions import Promotions, dev_pulls, read_promotions, settle

APPS = 50
REPOS = 3
# 16 allowed releases, two majors the policy refuses and two pre-releases it skips: 20 a day.
VERSIONS = (
    *(f"1.{minor}.{patch}" for minor in range(1, 5) for patch in range(4)),
    "2.0.0",
    "2.1.0",
    "1.5.0-rc.1",
    "1.9.0-rc.1",
)
HIGHEST_ALLOWED = "1.4.3"
SEED = 13


@dataclass(frozen=True)
class Outcome:
    """What a load left: the deliveries sent and acknowledged, and the promotions."""

    sent: int
    acknowledged: int  # answered 2xx: 202 taken in, 200 a redelivery already taken in
    promotions: Promotions


def app_names() -> list[str]:
    return [f"app{i}" for i in range(APPS)]


def repo_of(index: int) -> str:
    return f"env{index % REPOS}"


def pushes(seed: int = SEED) -> list[tuple[str, str]]:
    """Every (app, version) push, in a seeded shuffled order."""
    order = [(app, version) for app in app_names() for version in VERSIONS]
    random.Random(seed).shuffle(order)
    return order


def prepare(stack: Stack, org: str) -> GitHubView:
    """The organisation: ``REPOS`` environment repositories and the apps' source repository,
    the App installed; a reader's view of it."""
    for k in range(REPOS):
        files = env_files(org, range(k, APPS, REPOS), policy="minor")
        stack.admin.run(calls.create_repo(org, f"env{k}", files=files))
    stack.admin.run(calls.create_repo(org, "apps", files={"README.md": "# apps\n"}))
    stack.install(org)
    reader = stack.admin.run(calls.create_user(f"{org}-reader"))
    for k in range(REPOS):
        stack.admin.run(calls.grant_role(org, f"env{k}", reader.login, "read"))
    return stack.view(reader.token)


def publish_while_down(stack: Stack, org: str, order: list[tuple[str, str]]) -> list[Delivery]:
    """Publish every push while the bot is stopped (8 at a time): the sandbox records each
    delivery as failed to connect, as GitHub does during an outage. The bot is started again;
    the recorded deliveries, to post in a burst."""
    stack.bot.stop()

    def one(push: tuple[str, str]) -> None:
        app, version = push
        stack.admin.run(calls.publish_package(org, app, repository="apps", tag=version))

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, order))
        stack.deliver_all()
    finally:
        stack.bot.start()
    return recorded_pushes(stack, {f"{org}/{app}" for app, _ in order})


def recorded_pushes(stack: Stack, packages: set[str]) -> list[Delivery]:
    """The sandbox's deliveries of pushes of ``packages`` (``owner/name``), as it sent them."""
    return [
        Delivery(d["request"]["headers"], d["request"]["body"].encode())
        for d in stack.admin.run(calls.deliveries(event="registry_package"))
        if _package_of(d) in packages
    ]


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


def _package_of(delivery: dict[str, Any]) -> str:
    package = json.loads(delivery["request"]["body"])["registry_package"]
    return f"{package['namespace']}/{package['name']}"


def post_burst(url: str, deliveries: list[Delivery], *, concurrency: int = 16) -> list[int]:
    """POST every delivery to the bot's webhook ``concurrency`` at a time, as GitHub redelivers
    after an outage; the status codes answered."""
    with (
        httpx.Client(base_url=url, timeout=30.0) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        return list(
            pool.map(
                lambda d: (
                    client.post("/webhooks/github", content=d.body, headers=d.headers).status_code
                ),
                deliveries,
            )
        )


def expected() -> dict[str, str]:
    return dict.fromkeys(app_names(), HIGHEST_ALLOWED)


def repos_by_app(org: str) -> dict[str, str]:
    return {f"app{i}": f"{org}/{repo_of(i)}" for i in range(APPS)}


def run_load(stack: Stack, org: str, *, deadline: float) -> Outcome:
    view = prepare(stack, org)
    try:
        deliveries = publish_while_down(stack, org, pushes())
        answers = post_burst(stack.bot.url, deliveries)
        where = repos_by_app(org)

        def all_at_highest() -> bool:
            pulls = dev_pulls(view, set(where.values()))
            return len(pulls) == APPS and all(
                any(HIGHEST_ALLOWED in p["title"] for p in found) for found in pulls.values()
            )

        wait_until(all_at_highest, f"{APPS} dev PRs at {HIGHEST_ALLOWED} org={org}", deadline)
        settle(stack, deadline)
        acknowledged = sum(1 for status in answers if 200 <= status < 300)
        return Outcome(len(answers), acknowledged, read_promotions(view, where))
    finally:
        view.close()
