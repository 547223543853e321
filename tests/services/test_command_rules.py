"""The rules of commands that docs/commands.md states, beyond the main paths of test_commands:
overrides, holds lifted by hand, whole-environment approvers, labels following holds."""

from __future__ import annotations

import pytest

from bot.core.inputs.events import ImagePushed
from bot.core.promotion.holds import HELD_LABEL, HOLD_LABEL
from bot.services.bump import handle_image_pushed
from bot.services.review import review_pull
from tests.services.conftest import ENV_REPO, workspace
from tests.services.fakes import FakeGitHub
from tests.services.test_commands import CONFIG, comment, promotion_prs, replies

pytest_plugins = ["tests.services.test_commands"]  # the world fixture

OVERRIDE = CONFIG.replace(
    'approvers: ["@acme/release-managers", "@carol"]}',
    'approvers: ["@acme/release-managers", "@carol"], override: true}',
)


@pytest.mark.parametrize(("config", "opened"), [(CONFIG, False), (OVERRIDE, True)])
async def test_a_named_version_outside_the_policy_needs_override(
    world: FakeGitHub, config: str, opened: bool
):
    world.push(ENV_REPO, "main", {".github/promotion.yml": config})
    await comment(world, "/promote api 2.0.0 to prod", author="carol")
    assert ("prod" in promotion_prs(world)) is opened
    if opened:
        assert "policy prod-safe allows an override" in world.issues[(ENV_REPO, 1)].body


async def test_closing_the_hold_issue_by_hand_lifts_it(world: FakeGitHub):
    await comment(world, "/hold in staging")
    [hold] = [i for i in world.issues.values() if HOLD_LABEL in i.labels]
    hold.state = "closed"
    await comment(world, "/promote api to staging")
    assert "staging" in promotion_prs(world)


async def test_unhold_of_a_whole_environment_needs_its_approvers(world: FakeGitHub):
    await comment(world, "/hold in prod release freeze", author="alice")  # writers may hold
    await comment(world, "/unhold in prod", author="alice")
    assert "needs approval from" in replies(world)[-1]
    await comment(world, "/unhold in prod", author="rita")
    assert [i.state for i in world.issues.values() if HOLD_LABEL in i.labels] == ["closed"]


async def test_the_held_label_follows_the_hold(world: FakeGitHub):
    await comment(world, "/promote to staging")
    [(number, _)] = promotion_prs(world).values()
    await comment(world, "/hold in staging")
    assert HELD_LABEL in world.issues[(ENV_REPO, number)].labels
    await comment(world, "/unhold in staging")
    assert HELD_LABEL not in world.issues[(ENV_REPO, number)].labels
    _, run = world.checks[-1]
    assert [a.identifier for a in run.actions] == ["hold", "rollback", "drift"]


async def test_pushes_skip_a_held_environment(world: FakeGitHub):
    await comment(world, "/hold in dev")
    push = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.5")
    [outcome] = await handle_image_pushed(push, workspace(world))
    assert outcome.action == "skipped" and "every app in dev is held by @alice" in outcome.reason


async def test_a_rollback_pr_is_gated_by_freeze_only(world: FakeGitHub):
    await comment(world, "/rollback api to 1.1.0 in staging")
    [(number, _)] = promotion_prs(world).values()
    pull = world.pulls_of(ENV_REPO)[0]
    await review_pull(workspace(world), ENV_REPO, number, base_ref=pull.base_ref)
    _, run = world.checks[-1]
    assert run.conclusion == "success" and "**freeze**" in run.summary
    assert "**upstream**" not in run.summary and "**soak**" not in run.summary
    assert "❌" not in run.summary
    assert HELD_LABEL not in world.issues[(ENV_REPO, number)].labels


async def test_a_command_reads_the_persons_role_once(world: FakeGitHub):
    # No environment named: write access is checked first, the target's approvers once known.
    await comment(world, "/promote api 1.3.0", author="alice")
    assert "staging" in promotion_prs(world)
    assert world.count("people.role") == 1
