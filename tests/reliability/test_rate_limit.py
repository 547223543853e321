"""A rate limit at zero for one installation: GitHub answers its call with a primary rate limit
(403, ``x-ratelimit-remaining: 0``, the reset ``RESET_S`` seconds away). Until the reset the bot
calls none of that installation's repositories and does not spin (``MAX_CALLS_WAITING`` calls at
most), and it works another installation's pushes meanwhile; after the reset the first
installation's promotion is opened."""

from __future__ import annotations

from typing import Any

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from tests.e2e.burst import env_files
from tests.reliability.figures import record
from tests.reliability.promotions import dev_pulls

RESET_S = 20  # longer than the 3 s the bot retries a primary limit inline, and than the
# other installation needs for its PRs on a loaded machine
# The reset is in whole seconds (``x-ratelimit-reset``): a call this close to it is on time.
ON_TIME_S = 1.0
# Seen: a job queued after the limit listed the installation's repositories (GET
# /installation/repositories) before it reached the throttle, twice in some runs.
MAX_CALLS_WAITING = 2
BUSY_APPS = 3
PULL_OPENED = ("POST", "/repos/{owner}/{repo}/pulls")


def organisation(stack: Stack, org: str, apps: int) -> int:
    stack.admin.run(calls.create_repo(org, "env", files=env_files(org, apps)))
    stack.admin.run(calls.create_repo(org, "apps", files={"README.md": "# apps\n"}))
    return stack.install(org)


def test_one_installation_waits_for_its_reset_while_another_works(stack: Stack) -> None:
    limited = organisation(stack, "limited", 1)
    busy = organisation(stack, "busy", BUSY_APPS)
    reader = stack.admin.run(calls.create_user("limits-reader"))
    for org in ("limited", "busy"):
        stack.admin.run(calls.grant_role(org, "env", reader.login, "read"))
    rule = {"kind": "primary_rate_limit", "path": "/repos/limited/*", "retry_after": RESET_S}
    stack.admin.run(calls.set_faults([{**rule, "times": 1}]))
    view = stack.view(reader.token)
    try:
        stack.admin.run(calls.publish_package("limited", "app0", repository="apps", tag="1.1.0"))
        [hit] = wait_until(
            lambda: [e for e in log(stack, limited) if e["limit"] == "primary:fault"],
            "the limited installation's rate limit",
        )
        reset = hit["at"] + RESET_S
        for i in range(BUSY_APPS):
            stack.admin.run(
                calls.publish_package("busy", f"app{i}", repository="apps", tag="1.1.0")
            )
        wait_until(
            lambda: len(dev_pulls(view, ["busy/env"])) == BUSY_APPS, "the busy installation's PRs"
        )
        wait_until(lambda: dev_pulls(view, ["limited/env"]), "the limited PR after its reset", 60)
    finally:
        stack.admin.run(calls.set_faults([]))
        view.close()
    opened = [e["at"] for e in log(stack, busy) if (e["method"], e["route"]) == PULL_OPENED]
    waiting = [
        e for e in log(stack, limited) if hit["seq"] < e["seq"] and e["at"] < reset - ON_TIME_S
    ]
    record("rate_limit", calls_while_limited=len(waiting))
    assert len(opened) >= BUSY_APPS and max(opened) < reset, (
        "the busy installation's PRs opened while the other one waited"
    )
    called = [(e["method"], e["path"]) for e in waiting]
    assert not [path for _, path in called if path.startswith("/repos/")], called
    assert len(called) <= MAX_CALLS_WAITING, called


def log(stack: Stack, installation_id: int) -> list[dict[str, Any]]:
    """The sandbox's log of the installation's calls (sandbox clock, ``at``)."""
    return stack.admin.run(calls.requests_log(installation_id=installation_id))
