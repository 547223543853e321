"""Automerge end to end, against the sandbox's GitHub merge rules: ``mergeable`` is null for a
moment after the PR opens and a merge then answers 405 "Base branch was modified" [OA pulls/get,
pulls/merge]; this repository forbids squash merges [OA repos/get ``allow_squash_merge``]. The
bot waits and merges with a method the repository allows, without a word on the PR."""

from __future__ import annotations

from typing import Any

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from tests.e2e.harness import organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, directory_config, directory_repo, values


def test_automerge_waits_for_github_and_uses_an_allowed_method(stack: Stack) -> None:
    name = "automerge"
    files = directory_repo(name)
    files[CONFIG_FILE] = directory_config(name).replace(
        "    path: envs/dev\n    policy: auto\n", "    path: envs/dev\n    policy: automerge\n"
    )
    org = organisation(stack, name, {"env": files, "api": APP_REPO})
    env = org.repo("env")
    stack.admin.run(calls.merge_settings(name, "env", squash=False))
    stack.admin.run(calls.publish_package(name, "api", repository="api", tag="1.3.0"))

    def merged() -> dict[str, Any] | None:
        closed = org.view.pulls(env, "closed")
        found = [p for p in closed if p["head"]["ref"] == "promotion/api/dev" and p["merged_at"]]
        return found[0] if found else None

    pull = wait_until(merged, f"the dev PR merged by automerge org={name}", timeout=40)
    assert org.view.file(env, "envs/dev/values.yaml", "main") == values(name, "1.3.0")
    main = org.view.get(f"/repos/{env}/commits/main")
    assert len(main["parents"]) == 2  # a merge commit: squash is not allowed here
    comments = org.view.get(f"/repos/{env}/issues/{pull['number']}/comments")
    assert not any("Automerge did not merge" in c["body"] for c in comments)
