"""A person changes a workflow on the base while the bot's dev PR is open: the next version
still updates that PR. GitHub refuses an App without the ``workflows`` permission a branch move
that brings in a workflow change (the sandbox does too: tests/sandbox/test_workflows.py), and
the bot does not ask for that permission; it rebuilds the branch on the base it had."""

from __future__ import annotations

from bot.demo.harness import Stack
from github_sandbox import admin_client as calls
from tests.e2e.scenes import values
from tests.e2e.test_promotion import promotion_pulls, publish, pull_for, setup

WORKFLOW = ".github/workflows/ci.yml"


def test_a_workflow_change_on_the_base_does_not_stop_the_pr_update(stack: Stack) -> None:
    org = setup(stack, "workflow-base")
    env = org.repo("env")
    dead = stack.bot.queue()["dead"]  # the stack is shared: other tests dead-letter on purpose
    publish(stack, org, "1.3.0")
    first = pull_for(org, "dev", "1.3.0")
    files = {WORKFLOW: "on: pull_request\n"}
    stack.admin.run(calls.push(org.name, "env", pusher=org.person, files=files))
    publish(stack, org, "1.3.1")
    updated = pull_for(org, "dev", "1.3.1")
    assert updated["number"] == first["number"]
    assert len(promotion_pulls(org, "dev", "all")) == 1
    changed = org.view.file(env, "envs/dev/values.yaml", "promotion/api/dev")
    assert changed == values(org.name, "1.3.1")
    stack.settle()
    assert stack.bot.queue()["dead"] == dead
