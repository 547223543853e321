"""A version travels by pull request: an image push opens the dev PR, a newer push updates it,
a merge opens staging's, a decline is remembered, and nothing is ever proposed twice."""

from __future__ import annotations

from typing import Any

from bot.sandbox import admin_client as calls
from tests.e2e.harness import Org, Stack, wait_until
from tests.e2e.scenes import APP_REPO, directory_repo, values


def publish(stack: Stack, org: Org, tag: str) -> None:
    stack.admin.run(calls.publish_package(org.name, "api", repository="api", tag=tag))


def promotion_pulls(org: Org, env: str, state: str = "open") -> list[dict[str, Any]]:
    head = f"promotion/api/{env}"
    return [p for p in org.view.pulls(org.repo("env"), state) if p["head"]["ref"] == head]


def pull_for(org: Org, env: str, version: str) -> dict[str, Any]:
    """The open promotion PR of ``env`` once it proposes ``version``."""

    def proposed() -> dict[str, Any] | None:
        found = [p for p in promotion_pulls(org, env) if version in p["title"]]
        return found[0] if found else None

    return wait_until(proposed, f"the {env} PR for {version} org={org.name}")


def setup(stack: Stack, name: str, staging: str = "auto") -> Org:
    return stack.organisation(name, {"env": directory_repo(name, staging=staging), "api": APP_REPO})


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
    assert changed == values(org.name, "1.3.0").encode()
