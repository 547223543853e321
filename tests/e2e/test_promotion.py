"""A version travels by pull request: an image push opens the dev PR, a newer push updates it,
a merge opens staging's, a decline is remembered, and nothing is ever proposed twice."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import Org, organisation
from tests.e2e.scenes import APP_REPO, directory_repo, values


def publish(stack: Stack, org: Org, tag: str) -> None:
    stack.admin.run(calls.publish_package(org.name, "api", repository="api", tag=tag))


def promotion_pulls(
    org: Org, env: str, state: str = "open", repo: str = "env"
) -> list[dict[str, Any]]:
    head = f"promotion/api/{env}"
    return [p for p in org.view.pulls(org.repo(repo), state) if p["head"]["ref"] == head]


def pull_for(org: Org, env: str, version: str, repo: str = "env") -> dict[str, Any]:
    """The open promotion PR of ``env`` (in ``repo``) once it proposes ``version``."""

    def proposed() -> dict[str, Any] | None:
        found = [p for p in promotion_pulls(org, env, repo=repo) if version in p["title"]]
        return found[0] if found else None

    return wait_until(proposed, f"the {env} PR for {version} org={org.name} repo={repo}")


def setup(stack: Stack, name: str, staging: str = "auto") -> Org:
    return organisation(
        stack, name, {"env": directory_repo(name, staging=staging), "api": APP_REPO}
    )


def test_an_image_push_opens_the_dev_pr_with_one_exact_commit(stack: Stack) -> None:
    org = setup(stack, "push-opens")
    env = org.repo("env")
    main = org.view.heads(env)["main"]
    publish(stack, org, "1.3.0")
    pull = pull_for(org, "dev", "1.3.0")
    assert (pull["base"]["ref"], pull["user"]["login"]) == ("main", "promotion-bot[bot]")
    commits = org.view.get(f"/repos/{env}/pulls/{pull['number']}/commits")
    assert [[p["sha"] for p in c["parents"]] for c in commits] == [[main]]
    files = org.view.get(f"/repos/{env}/pulls/{pull['number']}/files")
    assert [f["filename"] for f in files] == ["envs/dev/values.yaml"]
    changed = org.view.file(env, "envs/dev/values.yaml", "promotion/api/dev")
    assert changed == values(org.name, "1.3.0")


def test_a_newer_push_before_the_merge_updates_the_same_pr(stack: Stack) -> None:
    org = setup(stack, "push-updates")
    env = org.repo("env")
    publish(stack, org, "1.3.0")
    first = pull_for(org, "dev", "1.3.0")
    publish(stack, org, "1.3.1")
    updated = pull_for(org, "dev", "1.3.1")
    assert updated["number"] == first["number"]
    assert len(promotion_pulls(org, "dev", "all")) == 1
    commits = org.view.get(f"/repos/{env}/pulls/{updated['number']}/commits")
    assert len(commits) == 1
    changed = org.view.file(env, "envs/dev/values.yaml", "promotion/api/dev")
    assert changed == values(org.name, "1.3.1")


@pytest.mark.parametrize(("staging", "proposed"), [("auto", True), ("manual", False)])
def test_a_merge_opens_the_next_pr_when_its_policy_is_auto(
    stack: Stack, staging: str, proposed: bool
) -> None:
    org = setup(stack, f"merge-{staging}", staging=staging)
    env = org.repo("env")
    publish(stack, org, "1.3.0")
    dev = pull_for(org, "dev", "1.3.0")
    stack.admin.run(ActAs(org.person).merge(org.name, "env", dev["number"]))
    if proposed:
        staging_pull = pull_for(org, "staging", "1.3.0")
        files = org.view.get(f"/repos/{env}/pulls/{staging_pull['number']}/files")
        assert [f["filename"] for f in files] == ["envs/staging/values.yaml"]
    else:
        stack.settle()
        assert promotion_pulls(org, "staging", "all") == []
    assert org.view.file(env, "envs/dev/values.yaml", "main") == values(org.name, "1.3.0")


def test_redelivered_and_repeated_webhooks_change_nothing(stack: Stack) -> None:
    org = setup(stack, "redelivery")
    env = org.repo("env")
    publish(stack, org, "1.3.0")
    pull = pull_for(org, "dev", "1.3.0")
    stack.settle()
    head = org.view.heads(env)["promotion/api/dev"]
    app = stack.app_github()
    deliveries = app.rest.apps.list_webhook_deliveries(per_page=100).parsed_data
    ours = [d for d in deliveries if d.installation_id == org.installation_id]
    assert {"registry_package", "pull_request"} <= {d.event for d in ours}
    for delivery in ours:
        app.rest.apps.redeliver_webhook_delivery(delivery.id)
    publish(stack, org, "1.3.0")  # a new delivery for the same version
    stack.settle()
    assert [p["number"] for p in promotion_pulls(org, "dev", "all")] == [pull["number"]]
    assert org.view.heads(env)["promotion/api/dev"] == head


def test_a_declined_version_is_not_proposed_again(stack: Stack) -> None:
    org = setup(stack, "declines")
    publish(stack, org, "1.3.0")
    declined = pull_for(org, "dev", "1.3.0")
    stack.admin.run(ActAs(org.person).close(org.name, "env", declined["number"]))

    def labelled() -> bool:
        pull = org.view.get(f"/repos/{org.repo('env')}/pulls/{declined['number']}")
        return "promotion-declined" in {label["name"] for label in pull["labels"]}

    wait_until(labelled, "the declined label")
    publish(stack, org, "1.3.0")
    stack.settle()
    assert promotion_pulls(org, "dev") == []
    publish(stack, org, "1.3.1")
    newer = pull_for(org, "dev", "1.3.1")
    assert newer["number"] != declined["number"]
