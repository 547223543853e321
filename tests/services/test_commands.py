"""Commands through the use case, on the recording fake: who may, what happens, what is said."""

from __future__ import annotations

import itertools

import pytest

from bot.core.inputs.events import CheckActionRequested, CommentCreated, ImagePushed
from bot.core.markup.metadata import extract
from bot.core.promotion.holds import HELD_LABEL, HOLD_LABEL
from bot.services.bump import handle_image_pushed
from bot.services.commands import handle_check_action, handle_comment_created
from tests.services.conftest import DIRECTORY_CONFIG, ENV_REPO, directory_repo, workspace
from tests.services.fakes import BOT, FakeGitHub

CONFIG = DIRECTORY_CONFIG.replace(
    "{use: prod-safe, auto: true}",
    '{use: prod-safe, approvers: ["@acme/release-managers", "@carol"]}',
)
_IDS = itertools.count(1000)


@pytest.fixture
def world(gh: FakeGitHub) -> FakeGitHub:
    directory_repo(gh, config=CONFIG, tags=("1.3.0", "1.2.0", "1.2.0"))
    for login, role in {
        "alice": "write",
        "mallory": "read",
        "max": "maintain",
        "rita": "write",
        "carol": "admin",
    }.items():
        gh.roles[(ENV_REPO, login)] = role
    gh.teams["acme/release-managers"] = {"rita"}  # a pending member is not listed: not active
    return gh


async def comment(
    gh: FakeGitHub, body: str, *, author: str = "alice", number: int = 50, **fields: object
) -> int:
    """Post ``body`` as ``author`` and let the bot handle it; the comment's id."""
    comment_id = next(_IDS)
    event = CommentCreated(
        installation_id=1,
        repo=ENV_REPO,
        issue_number=number,
        is_pull=bool(fields.pop("is_pull", False)),
        author=author,
        body=body,
        comment_id=comment_id,
        url=f"https://github.example/{ENV_REPO}/issues/{number}#issuecomment-{comment_id}",
        **fields,
    )
    await handle_comment_created(event, workspace(gh))
    return comment_id


def replies(gh: FakeGitHub) -> list[str]:
    return [c.body for _, _, c in gh.comments.values()]


def promotion_prs(gh: FakeGitHub) -> dict[str, tuple[int, str]]:
    """environment -> (number, version) of the open promotion PRs."""
    found = {}
    for pull in gh.pulls_of(ENV_REPO):
        meta = extract(gh.issues[(ENV_REPO, pull.number)].body)
        if meta is not None and gh.issues[(ENV_REPO, pull.number)].state == "open":
            found[meta.environment] = (pull.number, meta.version)
    return found


async def test_a_writer_promotes_to_staging_and_the_pr_records_who_asked(world: FakeGitHub):
    comment_id = await comment(world, "/promote to staging")
    assert promotion_prs(world) == {"staging": (1, "1.3.0")}
    assert world.reactions[comment_id] == {"eyes", "rocket"}
    body = world.issues[(ENV_REPO, 1)].body
    meta = extract(body)
    assert meta is not None and meta.by == "alice" and "issuecomment" in meta.url
    assert "Promotion requested by @&#8203;alice" in body
    assert replies(world)[0].startswith("@alice: Opened #1: api to staging")


async def test_a_reader_is_refused_naming_the_rule_and_nothing_changes(world: FakeGitHub):
    comment_id = await comment(world, "/promote api to staging", author="mallory")
    assert promotion_prs(world) == {}
    assert world.reactions[comment_id] == {"eyes", "confused"}
    [reply] = replies(world)
    assert "needs write access to acme/gitops" in reply and "mallory has read access" in reply


@pytest.mark.parametrize(
    ("author", "allowed"),
    [
        ("max", False),  # a maintainer outside the team
        ("alice", False),  # a writer outside the team
        ("rita", True),  # in the team, with write only through it
        ("carol", True),  # named directly
        ("pat", False),  # invited to the team, still pending: no role either
    ],
)
async def test_prod_approvers(world: FakeGitHub, author: str, allowed: bool):
    comment_id = await comment(world, "/promote api 1.2.1 to prod", author=author)
    assert ("prod" in promotion_prs(world)) is allowed
    assert world.reactions[comment_id] == {"eyes", "rocket" if allowed else "confused"}
    if not allowed and author != "pat":
        assert "needs approval from @&#8203;acme/release-managers or" in replies(world)[0]


async def test_prod_safe_opens_prod_only_on_a_command(world: FakeGitHub):
    push = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.2.1")
    world.push(ENV_REPO, "main", {"envs/staging/values.yaml": "image: ghcr.io/acme/api:1.2.1\n"})
    await handle_image_pushed(push, workspace(world))
    assert "prod" not in promotion_prs(world)
    await comment(world, "/promote api to prod", author="rita")
    assert promotion_prs(world)["prod"][1] == "1.2.1"


async def test_a_policy_refusal_names_the_rule(world: FakeGitHub):
    await comment(world, "/promote api 2.0.0 to prod", author="carol")
    assert "prod" not in promotion_prs(world)
    assert "policy prod-safe for prod refuses 2.0.0" in replies(world)[0]


async def test_hold_stops_automation_until_unhold(world: FakeGitHub):
    await comment(world, "/hold api in staging waiting for the DB migration")
    [hold] = [i for i in world.issues.values() if HOLD_LABEL in i.labels]
    assert hold.state == "open" and "waiting for the DB migration" in hold.body
    await comment(world, "/promote api to staging")
    assert promotion_prs(world) == {}
    assert "api in staging is held by @alice" in replies(world)[-1].replace("&#8203;", "")
    await comment(world, "/unhold api in staging", author="carol")
    assert hold.state == "closed"
    await comment(world, "/promote api to staging")
    assert promotion_prs(world) == {"staging": (2, "1.3.0")}


async def test_a_held_lane_pr_is_labelled_and_not_updated(world: FakeGitHub):
    await comment(world, "/promote to staging")
    [(number, _)] = promotion_prs(world).values()
    await comment(world, "/hold", is_pull=True, number=number)
    assert HELD_LABEL in world.issues[(ENV_REPO, number)].labels
    _, run = world.checks[-1]
    assert run.conclusion == "action_required" and "held by" in run.summary
    assert [a.identifier for a in run.actions] == ["unhold", "rollback", "drift"]
    world.push(ENV_REPO, "main", {"envs/dev/values.yaml": "image: ghcr.io/acme/api:1.3.1\n"})
    push = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.1")
    await handle_image_pushed(push, workspace(world))
    assert promotion_prs(world)["staging"] == (number, "1.3.0")


async def test_rollback_opens_a_pr_back_and_holds_the_lane(world: FakeGitHub):
    await comment(world, "/rollback api to 1.1.0 in staging", author="alice")
    [(number, version)] = promotion_prs(world).values()
    assert version == "1.1.0"
    pr = world.issues[(ENV_REPO, number)]
    assert pr.title == "Roll back api in staging to 1.1.0"
    meta = extract(pr.body)
    assert meta is not None and meta.rollback
    holds = [i for i in world.issues.values() if HOLD_LABEL in i.labels]
    assert len(holds) == 1 and "rolled back from 1.2.0 to 1.1.0" in holds[0].body


async def test_bots_and_answered_comments_trigger_nothing(world: FakeGitHub):
    await comment(world, "/promote to staging", author=BOT)
    await comment(world, "/promote to staging", author="dependabot[bot]", author_is_bot=True)
    assert promotion_prs(world) == {} and replies(world) == []
    event_id = await comment(world, "/promote to staging")
    event = CommentCreated(
        installation_id=1,
        repo=ENV_REPO,
        issue_number=50,
        is_pull=False,
        author="alice",
        body="/promote to staging",
        comment_id=event_id,
    )
    await handle_comment_created(event, workspace(world))  # delivered again
    assert len(replies(world)) == 1 and len(promotion_prs(world)) == 1


@pytest.mark.parametrize(
    "body",
    [
        "/promote [x](http://evil) to staging",
        "/promote <img src=x onerror=alert(1)> to staging",
        "/promote api @everyone to staging",
        "/promote api 1.0.0 to ../../etc",
        "/hold api in staging <b>@acme/sre</b> ![x](http://evil/x.png)",
    ],
)
async def test_hostile_arguments_change_nothing_and_come_back_escaped(world: FakeGitHub, body):
    await comment(world, body)
    assert promotion_prs(world) == {}
    for reply in replies(world):
        assert "<" not in reply and "](" not in reply
        assert "@acme" not in reply and "@everyone" not in reply


async def test_a_button_does_what_the_comment_does_as_the_clicker(world: FakeGitHub):
    await comment(world, "/promote to staging")
    [(number, _)] = promotion_prs(world).values()
    for clicker, held in (("mallory", False), ("alice", True)):
        event = CheckActionRequested(
            installation_id=1,
            repo=ENV_REPO,
            identifier="hold",
            head_sha="x",
            requester=clicker,
            pull_number=number,
        )
        await handle_check_action(event, workspace(world))
        assert (HELD_LABEL in world.issues[(ENV_REPO, number)].labels) is held
    assert "mallory's click" in replies(world)[1]


async def test_a_button_on_a_merged_prs_check_finds_its_pr(world: FakeGitHub):
    # A check run's event lists open PRs only: after the merge it names none.
    await comment(world, "/promote to staging")
    [(number, _)] = promotion_prs(world).values()
    head_sha = world.close(ENV_REPO, number, merged=True).head_sha
    event = CheckActionRequested(
        installation_id=1,
        repo=ENV_REPO,
        identifier="rollback",
        head_sha=head_sha,
        requester="alice",
    )
    await handle_check_action(event, workspace(world))
    assert promotion_prs(world)["staging"][1] == "1.2.0"
    assert replies(world)[-1].startswith("alice's click: Opened #")


async def test_help_says_who_may(world: FakeGitHub):
    await comment(world, "/help", author="mallory")
    [reply] = replies(world)
    assert "/rollback" in reply and "prod: @&#8203;acme/release-managers" in reply
