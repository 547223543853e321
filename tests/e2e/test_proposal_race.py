"""A person merges the dev PR while the bot, proposing the same version again, waits on reading
that PR: the bot plans again instead of opening a second dev PR on the stale base (the race a
demo run found; ``tests/services/test_proposal_race.py`` holds every interleaving)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from github_sandbox.admin_call import Call
from github_sandbox.collab_admin import ActAs
from tests.e2e.test_promotion import promotion_pulls, publish, pull_for, setup

FAULTS: Call[list[dict[str, Any]]] = Call("GET", "/_sandbox/faults", list)


@contextmanager
def slow_pull_listing(stack: Stack, repo: str) -> Iterator[None]:
    """The next listing of ``repo``'s PRs (the bot's ``pulls?head=``, read after the
    environment's files) hangs 3 s, then answers with what the sandbox holds by then."""
    rule = {"kind": "latency", "seconds": 3, "method": "GET", "path": f"/repos/{repo}/pulls"}
    stack.admin.run(calls.set_faults([{**rule, "times": 1}]))
    try:
        yield
    finally:
        stack.admin.run(calls.set_faults([]))


def test_a_merge_while_the_bot_reads_the_pr_makes_no_second_pr(stack: Stack) -> None:
    org = setup(stack, "proposal-race")
    env = org.repo("env")
    publish(stack, org, "1.3.0")
    first = pull_for(org, "dev", "1.3.0")
    stack.settle()
    with slow_pull_listing(stack, env):
        # 1.3.0 rebuilt (another digest: the same digest is the same fact, de-duplicated) is
        # offered again: the job reads dev (1.2.0), then the PR
        rebuilt = {"org.opencontainers.image.revision": "rebuilt"}
        stack.admin.run(
            calls.publish_package(org.name, "api", repository="api", tag="1.3.0", labels=rebuilt)
        )
        wait_until(lambda: stack.admin.run(FAULTS)[0]["fired"] == 1, "the bot listing the PRs")
        stack.admin.run(ActAs(org.person).merge(org.name, "env", first["number"]))
        stack.settle()
    assert [p["number"] for p in promotion_pulls(org, "dev", "all")] == [first["number"]]
    staging = pull_for(org, "staging", "1.3.0")
    assert [p["number"] for p in promotion_pulls(org, "staging", "all")] == [staging["number"]]
    main = org.view.heads(env)["main"]
    commits = org.view.get(f"/repos/{env}/pulls/{staging['number']}/commits")
    assert [[p["sha"] for p in c["parents"]] for c in commits] == [[main]]
