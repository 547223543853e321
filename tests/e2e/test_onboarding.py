"""Onboarding end to end: installing the App on a repository with environments but no config
opens one onboarding PR; another installation event or a reconcile pass opens no second; while
open it follows the default branch; once closed it is never opened again; once merged, a push is
promoted.

The bot here reconciles every second (a second App in the session's sandbox, as in
``test_reconcile``), so every check that nothing happened waits for passes that looked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.demo.harness import Stack, serve_app
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import BOT_OPTIONS, Org, organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, ENVS, values
from tests.e2e.test_promotion import publish, pull_for

ONBOARDER = "promotion-bot-onboarder"
BRANCH = "promotion-bot/onboarding"
PULLS_ROUTE = "/repos/{owner}/{repo}/pulls"


@pytest.fixture(scope="module")
def onboarder(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second App served by a second bot that reconciles every second: an organisation that
    installs it is seen by no other bot."""
    options = {**BOT_OPTIONS, "reconcile_interval": "1"}
    workdir = tmp_path_factory.mktemp("onboarder")
    app, bot = serve_app(
        stack.admin,
        stack.url,
        workdir,
        owner="bot-owners",
        name=ONBOARDER,
        processes=True,
        options=options,
    )
    yield Stack(workdir, stack.sandbox, bot, stack.admin, app)
    bot.stop()


def unconfigured(org: str) -> dict[str, str]:
    files = {"README.md": "# environments\n"}
    return files | {f"envs/{env}/values.yaml": values(org, "1.2.0") for env in ENVS}


def onboarding_pulls(org: Org, state: str = "all", repo: str = "env") -> list[dict[str, Any]]:
    return [p for p in org.view.pulls(org.repo(repo), state) if p["head"]["ref"] == BRANCH]


def onboarded(stack: Stack, name: str) -> tuple[Org, dict[str, Any]]:
    org = organisation(stack, name, {"env": unconfigured(name), "api": APP_REPO})
    pull = wait_until(lambda: next(iter(onboarding_pulls(org, "open")), None), "onboarding PR")
    return org, pull


def lookups(stack: Stack, org: Org) -> int:
    """How often the bot has listed the env repository's PRs (each pass looks for its PR)."""
    log = stack.admin.run(calls.requests_log(installation_id=org.installation_id))
    return sum(1 for e in log if e["method"] == "GET" and e["route"] == PULLS_ROUTE)


def after_two_passes(stack: Stack, org: Org) -> None:
    seen = lookups(stack, org)
    wait_until(lambda: lookups(stack, org) >= seen + 2, "two reconcile passes over the repo")
    stack.settle()


def test_the_onboarding_pr_is_opened_once(onboarder: Stack) -> None:
    org, pull = onboarded(onboarder, "onboard-once")
    assert pull["user"]["login"] == f"{ONBOARDER}[bot]"
    assert (pull["base"]["ref"], pull["title"]) == ("main", "Configure Promotion Bot")
    assert "promotion-bot:v1" in pull["body"] and '"kind":"onboarding"' in pull["body"]
    files = org.view.get(f"/repos/{org.repo('env')}/pulls/{pull['number']}/files")
    assert [f["filename"] for f in files] == [CONFIG_FILE]
    config = org.view.file(org.repo("env"), CONFIG_FILE, BRANCH)
    assert f"image: ghcr.io/{org.name}/api" in config
    onboarder.admin.run(calls.change_installation_repositories(org.installation_id, add=["env"]))
    after_two_passes(onboarder, org)
    assert [p["number"] for p in onboarding_pulls(org)] == [pull["number"]]
    assert onboarding_pulls(org, repo="api") == []  # no environments there


def test_open_it_follows_an_app_added_on_the_default_branch(onboarder: Stack) -> None:
    org, pull = onboarded(onboarder, "onboard-follows")
    worker = f"image:\n  repository: ghcr.io/{org.name}/worker\n  tag: 2.0.0\n"
    pushed = calls.push(org.name, "env", pusher=org.person, files={"envs/dev/worker.yaml": worker})
    [moved] = onboarder.admin.run(pushed).updates
    repo = org.repo("env")

    def updated() -> dict[str, Any] | None:  # the body is the last of the bot's writes
        [again] = onboarding_pulls(org)
        return again if f"ghcr.io/{org.name}/worker" in again["body"] else None

    assert wait_until(updated, "the onboarding PR proposing the worker")["number"] == pull["number"]
    assert f"ghcr.io/{org.name}/worker" in org.view.file(repo, CONFIG_FILE, BRANCH)
    commits = org.view.get(f"/repos/{repo}/pulls/{pull['number']}/commits")
    assert [[p["sha"] for p in c["parents"]] for c in commits] == [[moved.after]]


def test_closed_it_is_never_opened_again(onboarder: Stack) -> None:
    org, pull = onboarded(onboarder, "onboard-closed")
    onboarder.admin.run(ActAs(org.person).close(org.name, "env", pull["number"]))
    after_two_passes(onboarder, org)
    onboarder.admin.run(calls.change_installation_repositories(org.installation_id, add=["env"]))
    after_two_passes(onboarder, org)
    assert [(p["number"], p["state"]) for p in onboarding_pulls(org)] == [
        (pull["number"], "closed")
    ]


def test_merged_a_push_is_promoted(onboarder: Stack) -> None:
    org, pull = onboarded(onboarder, "onboard-merged")
    onboarder.admin.run(ActAs(org.person).merge(org.name, "env", pull["number"]))
    onboarder.settle()
    publish(onboarder, org, "1.3.0")
    promoted = pull_for(org, "dev", "1.3.0")
    assert promoted["user"]["login"] == f"{ONBOARDER}[bot]"
    assert org.view.file(org.repo("env"), "envs/dev/values.yaml", "promotion/api/dev") == values(
        org.name, "1.3.0"
    )
    assert [p["number"] for p in onboarding_pulls(org)] == [pull["number"]]
