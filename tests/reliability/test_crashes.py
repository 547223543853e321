"""Crashes: the bot is killed with SIGKILL at seeded random moments while it works a stream of
image pushes, ``CRASHES`` times (3 on PostgreSQL), and started again on the same queue each
time. Deliveries it acknowledged are worked after the restart; those GitHub could not deliver
while it was down are redelivered by its sweep. At the end every app has exactly one dev PR at
its last version, with one commit. On PostgreSQL the ``worker`` process beside ``serve`` is
never killed: it works on, and takes over what the killed process held once its lease runs
out.

Jobs dead-lettered are counted, not refused: a job in flight at ``max_attempts`` crashes in a row
(the reconcile pass the bot starts with, here) is given up as a poison job would be; the next
pass runs it again on schedule."""

from __future__ import annotations

import random
import time

from bot.demo.harness import Stack
from bot.demo.runners import BotProcess
from github_sandbox import admin_client as calls
from tests.e2e.burst import env_files
from tests.reliability.conftest import Engine
from tests.reliability.figures import record
from tests.reliability.promotions import read_promotions, settle

ORG = "crashes"
APPS = 5
CRASHES = 10
# On PostgreSQL the worker beside ``serve`` goes on working through every crash; three of them
# prove the takeover (test_crashes_postgresql.py) and keep CI short (each restart costs a start).
CRASHES_ON = {"": CRASHES, "@postgresql": 3}
SEED = 13
# How long after a round of pushes the bot is killed: from at once to after its first PRs.
LONGEST_S = 1.0


def test_killed_again_and_again_the_bot_loses_and_doubles_nothing(stack: Stack) -> None:
    crash_and_check(Engine(stack, ""))


def crash_and_check(engine_stack: Engine) -> None:
    """The scenario on ``engine_stack``; its figures go under ``crashes`` and the engine."""
    stack = engine_stack.stack
    crashes = CRASHES_ON[engine_stack.suffix]
    bot = stack.bot
    assert isinstance(bot, BotProcess)
    stack.admin.run(calls.create_repo(ORG, "env", files=env_files(ORG, APPS)))
    stack.admin.run(calls.create_repo(ORG, "apps", files={"README.md": "# apps\n"}))
    stack.install(ORG)
    reader = stack.admin.run(calls.create_user(f"{ORG}-reader"))
    stack.admin.run(calls.grant_role(ORG, "env", reader.login, "read"))
    dead_before = bot.queue()["dead"]
    delays = random.Random(SEED)
    versions = [f"1.{round_ + 1}.0" for round_ in range(crashes)]
    recovered = 0
    for version in versions:
        for i in range(APPS):
            stack.admin.run(calls.publish_package(ORG, f"app{i}", repository="apps", tag=version))
        time.sleep(delays.uniform(0.0, LONGEST_S))
        bot.kill()
        bot.start()
        recovered += bot.healthy()
    settle(stack, timeout=120.0)
    view = stack.view(reader.token)
    try:
        promotions = read_promotions(view, {f"app{i}": f"{ORG}/env" for i in range(APPS)})
    finally:
        view.close()
    expected = {f"app{i}": versions[-1] for i in range(APPS)}
    duplicated, lost = promotions.duplicated(), promotions.lost(expected)
    dead = bot.queue()["dead"] - dead_before
    record(
        engine_stack.figure("crashes"),
        crashes=crashes,
        recovered=recovered if not (duplicated or lost) else 0,
        sent=APPS * crashes,
        duplicated=duplicated,
        lost=lost,
        dead_lettered=dead,
    )
    assert (duplicated, lost) == (0, 0)
    assert recovered == crashes
