"""Faults: while the sandbox answers about a fifth of the organisation's API calls with a 502, a
timeout (504 after a wait), a secondary rate limit without ``retry-after`` or, for ref updates, a
422 race, every promotion still completes: one PR per app at its last version, one commit each,
nothing dead-lettered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.demo.harness import Stack
from github_sandbox import admin_client as calls
from github_sandbox.admin_call import Call
from tests.e2e.burst import env_files
from tests.reliability.figures import record
from tests.reliability.promotions import read_promotions, settle

ORG = "faults"
APPS = 6
# The second version moves each PR's branch: a ref update, where 422 races happen.
VERSIONS = ("1.1.0", "1.2.0")
# First match wins: a call to the organisation's repositories draws each rule in turn.
RULES: list[Mapping[str, Any]] = [
    {"kind": "ref_race", "method": "PATCH", "path": f"/repos/{ORG}/*/git/refs/*", "rate": 0.3},
    {"kind": "error", "status": 502, "path": f"/repos/{ORG}/*", "rate": 0.1},
    {"kind": "timeout", "seconds": 0.5, "path": f"/repos/{ORG}/*", "rate": 0.05},
    {"kind": "secondary_rate_limit", "retry_after": None, "path": f"/repos/{ORG}/*", "rate": 0.05},
]
FIRED: Call[list[dict[str, Any]]] = Call("GET", "/_sandbox/faults", list)


def test_every_promotion_completes_through_injected_faults(stack: Stack) -> None:
    stack.admin.run(calls.create_repo(ORG, "env", files=env_files(ORG, APPS)))
    stack.admin.run(calls.create_repo(ORG, "apps", files={"README.md": "# apps\n"}))
    stack.install(ORG)
    reader = stack.admin.run(calls.create_user(f"{ORG}-reader"))
    stack.admin.run(calls.grant_role(ORG, "env", reader.login, "read"))
    dead_before = stack.bot.queue()["dead"]
    stack.admin.run(calls.set_faults(RULES))
    try:
        for version in VERSIONS:
            for i in range(APPS):
                push = calls.publish_package(ORG, f"app{i}", repository="apps", tag=version)
                stack.admin.run(push)
            settle(stack, timeout=120.0)
        fired = {rule["kind"]: rule["fired"] for rule in stack.admin.run(FIRED)}
    finally:
        stack.admin.run(calls.set_faults([]))
    view = stack.view(reader.token)
    try:
        promotions = read_promotions(view, {f"app{i}": f"{ORG}/env" for i in range(APPS)})
    finally:
        view.close()
    expected = {f"app{i}": VERSIONS[-1] for i in range(APPS)}
    completed = not promotions.duplicated() and not promotions.lost(expected)
    dead = stack.bot.queue()["dead"] - dead_before
    injected = sum(fired.values())
    record("faults", injected=injected, survived=injected if completed and not dead else 0)
    assert all(fired.values()), f"every kind of fault fired: {fired}"
    assert (promotions.duplicated(), promotions.lost(expected), dead) == (0, 0, 0)
