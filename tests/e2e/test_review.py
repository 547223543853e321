"""A person's PR to an environment gets the bot's review: the meaningful diff and drift warnings
in one comment, edited in place when the PR changes."""

from __future__ import annotations

from typing import Any

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import Org
from tests.e2e.scenes import values
from tests.e2e.test_promotion import setup

PROD = "envs/prod/values.yaml"


def bot_comments(org: Org, number: int) -> list[dict[str, Any]]:
    found = org.view.comments(org.repo("env"), number)
    return [c for c in found if c["user"]["login"] == "promotion-bot[bot]"]


def push_prod(stack: Stack, org: Org, tag: str) -> None:
    files: dict[str, str | None] = {PROD: values(org.name, tag)}
    stack.admin.run(calls.push(org.name, "env", pusher=org.person, branch="hotfix", files=files))


def test_a_persons_pr_gets_one_review_comment_kept_up_to_date(stack: Stack) -> None:
    org = setup(stack, "review")
    push_prod(stack, org, "1.4.0")
    opened = stack.admin.run(
        ActAs(org.person).open_pull(org.name, "env", head="hotfix", base="main", title="Hotfix")
    )
    number = opened["number"]
    (comment,) = wait_until(lambda: bot_comments(org, number), "the review comment")
    body = comment["body"]
    assert "Promotion review: api in prod" in body and "1.4.0" in body
    assert "#### Warnings" in body  # prod would run a version staging never had
    push_prod(stack, org, "1.4.1")
    # The sandbox notices a moved head (and sends ``synchronize``) when the PR is next read.
    assert org.view.get(f"/repos/{org.repo('env')}/pulls/{number}")["head"]["ref"] == "hotfix"

    def edited() -> dict[str, Any] | None:
        found = bot_comments(org, number)
        return found[0] if len(found) == 1 and "1.4.1" in found[0]["body"] else None

    assert wait_until(edited, "the review comment to follow the push")["id"] == comment["id"]
    stack.settle()
    assert len(bot_comments(org, number)) == 1
