"""The reconcile loop repairs what no webhook announced: four tags pushed at once get no
``create`` event (GitHub's rule, kept by the sandbox), yet the dev PR for the newest appears once
the bot's scheduler has run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.demo.harness import Stack, serve_app
from github_sandbox import admin_client as calls
from tests.e2e.harness import BOT_OPTIONS
from tests.e2e.test_promotion import promotion_pulls, pull_for, setup

RECONCILER = "promotion-bot-reconciler"


@pytest.fixture(scope="module")
def reconciling(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second App in the same sandbox, served by a second ``promotion-bot serve`` that
    reconciles every second: an organisation that installs it is seen by no other bot."""
    options = {**BOT_OPTIONS, "reconcile_interval": "1"}
    workdir = tmp_path_factory.mktemp("reconciler")
    app, bot = serve_app(
        stack.admin,
        stack.url,
        workdir,
        owner="bot-owners",
        name=RECONCILER,
        processes=True,
        options=options,
    )
    yield Stack(workdir, stack.sandbox, bot, stack.admin, app)
    bot.stop()


def test_tags_no_webhook_announced_get_their_pr_from_the_reconcile_loop(
    reconciling: Stack,
) -> None:
    org = setup(reconciling, "reconcile")
    tags = {f"v1.{minor}.0": "main" for minor in range(3, 7)}
    reconciling.admin.run(calls.push(org.name, "api", pusher=org.person, tags=tags))
    pull = pull_for(org, "dev", "1.6.0")
    assert pull["user"]["login"] == f"{RECONCILER}[bot]"
    api = org.view.get(f"/repos/{org.repo('api')}")["id"]
    sent = reconciling.admin.run(calls.deliveries())
    assert [d["event"] for d in sent if d["repository_id"] == api] == []  # no tag was announced
    reconciling.settle()
    assert [p["number"] for p in promotion_pulls(org, "dev", "all")] == [pull["number"]]
