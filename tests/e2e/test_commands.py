"""Commands end to end: people comment ``/promote``, ``/hold``, ``/unhold`` and ``/rollback`` (or
press the promotion-policy check's buttons) in the sandbox, and the real bot process carries them
out with each person's own permission, answers in escaped words and reacts.

Each test builds its own organisation (``build_world``; the hostile arguments share one, since
they must change nothing): an environment repository whose dev runs 1.3.0 and staging and prod
1.2.0, prod under ``prod-safe`` with the team ``release-managers`` as its approvers, and people
whose access comes from different grants (the organisation's base permission is ``none``, so a
team is the only way in for its members). A test waits for the bot with ``settle`` (every
webhook delivered, the bot's queue empty) and then reads what a person would see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.demo.harness import Stack
from bot.demo.runners import BotProcess
from github_sandbox import admin_client as calls
from tests.e2e.harness import Org, organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, directory_config, values
from tests.e2e.test_promotion import promotion_pulls, publish, pull_for

BOT = "promotion-bot[bot]"
TEAM = "release-managers"


def config(org: str) -> str:
    return directory_config(org, prod=f'{{use: prod-safe, approvers: ["@{org}/{TEAM}"]}}')


@dataclass
class World:
    """One test's organisation and its people by part: ``writer`` (a direct write grant),
    ``reader`` (read), ``maintainer`` (maintain, outside the team), ``manager`` (on the team,
    which alone gives write), ``invited`` (invited to the team, still pending)."""

    stack: Stack
    org: Org
    people: dict[str, str]  # part -> login
    tokens: dict[str, str]  # part -> their REST token (not the writer's: ``organisation``'s)

    @property
    def env(self) -> str:
        return self.org.repo("env")

    def login(self, who: str) -> str:
        return self.people[who]

    def run(self, call: calls.Call[Any]) -> Any:
        return self.stack.admin.run(call)

    def settle(self) -> None:
        """Twice: what the bot does for a comment (opening a PR) sends webhooks of its own,
        whose jobs (the PR's review and check run) must be done too."""
        self.stack.settle()
        self.stack.settle()

    def issue(self, title: str = "Commands") -> int:
        opened = self.run(
            calls.ActAs(self.login("writer")).open_issue(self.org.name, "env", title=title)
        )
        return int(opened["number"])

    def say(self, who: str, number: int, body: str) -> int:
        """``who`` comments ``body`` on issue or PR ``number``; the bot is done with it on
        return. The comment's id."""
        posted = self.run(calls.ActAs(self.login(who)).comment(self.org.name, "env", number, body))
        self.settle()
        return int(posted["id"])

    def replies(self, number: int) -> list[str]:
        """The bot's answers on ``number`` (its review comments are not answers)."""
        found = self.org.view.comments(self.env, number)
        return [
            c["body"]
            for c in found
            if c["user"]["login"] == BOT and "promotion-bot:v1" not in c["body"]
        ]

    def reactions(self, comment_id: int) -> list[str]:
        found = self.org.view.get(f"/repos/{self.env}/issues/comments/{comment_id}/reactions")
        return [r["content"] for r in found if r["user"]["login"] == BOT]

    def holds(self) -> list[dict[str, Any]]:
        found = self.org.view.get(
            f"/repos/{self.env}/issues", state="open", labels="promotion-hold"
        )
        return list(found)

    def pull(self, number: int) -> dict[str, Any]:
        found: dict[str, Any] = self.org.view.get(f"/repos/{self.env}/pulls/{number}")
        return found

    def labels(self, number: int) -> set[str]:
        return {label["name"] for label in self.pull(number)["labels"]}


def build_world(stack: Stack, name: str) -> World:
    files = {CONFIG_FILE: config(name), "README.md": "# environments\n"}
    tags = {"dev": "1.3.0", "staging": "1.2.0", "prod": "1.2.0"}
    files |= {f"envs/{env}/values.yaml": values(name, tag) for env, tag in tags.items()}
    org = organisation(stack, name, {"env": files, "api": APP_REPO})
    admin = stack.admin
    users = {
        part: admin.run(calls.create_user(f"{name}-{part}"))
        for part in ("reader", "maintainer", "manager", "invited")
    }
    people = {"writer": org.person} | {part: user.login for part, user in users.items()}
    admin.run(calls.set_base_permission(name, "none"))
    admin.run(calls.grant_role(name, "env", people["reader"], "read"))
    admin.run(calls.grant_role(name, "env", people["maintainer"], "maintain"))
    team = admin.run(calls.create_team(name, "Release Managers"))
    assert team["slug"] == TEAM
    admin.run(calls.grant_team_repo(name, TEAM, name, "env", "push"))
    admin.run(calls.add_team_member(name, TEAM, people["manager"]))
    admin.run(calls.add_team_member(name, TEAM, people["invited"], state="pending"))
    return World(stack, org, people, {part: user.token for part, user in users.items()})


def open_pulls(world: World, env: str) -> list[dict[str, Any]]:
    return promotion_pulls(world.org, env)


def test_a_writer_promotes_and_a_reader_is_refused(stack: Stack) -> None:
    world = build_world(stack, "promote")
    number = world.issue()
    heads = world.org.view.heads(world.env)
    refused = world.say("reader", number, "/promote api to staging")
    assert world.reactions(refused) == ["eyes", "confused"]
    [reply] = world.replies(number)
    assert "needs write access" in reply and "has read access" in reply
    assert open_pulls(world, "staging") == [] and world.org.view.heads(world.env) == heads
    done = world.say("writer", number, "/promote to staging")  # the app is the only one
    assert world.reactions(done) == ["eyes", "rocket"]
    [pull] = open_pulls(world, "staging")
    assert "1.3.0" in pull["title"] and pull["user"]["login"] == BOT
    writer = world.login("writer")
    assert world.replies(number)[-1].startswith(f"@{writer}: Opened #{pull['number']}")
    # The PR says who asked, and links the comment.
    assert f"Promotion requested by @&#8203;{writer}" in pull["body"]
    assert f"issuecomment-{done}" in pull["body"]


def test_prod_needs_an_active_member_of_the_approving_team(stack: Stack) -> None:
    world = build_world(stack, "approvers")
    number = world.issue()
    command = "/promote api 1.3.0 to prod"
    table = [  # in order: the refusals first, so that nothing was opened before the manager
        ("maintainer", "needs approval from @&#8203;approvers/release-managers"),
        ("invited", "needs write access"),
        ("writer", "needs approval from"),
        ("manager", None),
    ]
    for who, refusal in table:
        comment = world.say(who, number, command)
        reply = world.replies(number)[-1]
        if refusal is None:
            assert world.reactions(comment) == ["eyes", "rocket"], reply
            [pull] = open_pulls(world, "prod")
            assert "1.3.0" in pull["title"]
        else:
            assert world.reactions(comment) == ["eyes", "confused"], (who, reply)
            assert refusal in reply, (who, reply)
            assert open_pulls(world, "prod") == [], who


def test_prod_safe_opens_prod_on_a_command_and_not_before(stack: Stack) -> None:
    world = build_world(stack, "prod-safe")
    publish(stack, world.org, "1.3.1")
    for env in ("dev", "staging"):
        pull = pull_for(world.org, env, "1.3.1")
        world.run(calls.ActAs(world.login("writer")).merge(world.org.name, "env", pull["number"]))
    world.settle()
    assert promotion_pulls(world.org, "prod", "all") == []
    publish(stack, world.org, "1.3.1")  # pushed again: still not
    world.settle()
    assert promotion_pulls(world.org, "prod", "all") == []
    world.say("manager", world.issue(), "/promote api to prod")
    [pull] = open_pulls(world, "prod")
    assert "1.3.1" in pull["title"]


def restart(stack: Stack) -> None:
    bot = stack.bot
    assert isinstance(bot, BotProcess)
    bot.kill()
    bot.start()


def test_a_hold_stops_automation_until_unhold_across_a_restart(stack: Stack) -> None:
    world = build_world(stack, "holds")
    publish(stack, world.org, "1.3.1")
    pull = pull_for(world.org, "dev", "1.3.1")
    number = world.issue()
    comment = world.say("writer", number, "/hold in dev waiting for the DB migration")
    assert world.reactions(comment) == ["eyes", "rocket"]
    [hold] = world.holds()
    assert "every app in dev" in hold["title"] and "waiting for the DB migration" in hold["body"]
    assert "promotion-held" in world.labels(pull["number"])  # the held lane's open PR shows it
    head = world.org.view.heads(world.env)["promotion/api/dev"]
    restart(stack)
    publish(stack, world.org, "1.3.2")
    world.settle()
    assert [p["number"] for p in promotion_pulls(world.org, "dev", "all")] == [pull["number"]]
    assert world.org.view.heads(world.env)["promotion/api/dev"] == head
    assert "1.3.1" in world.pull(pull["number"])["title"]
    world.say("writer", number, "/unhold in dev")
    assert world.holds() == [] and "promotion-held" not in world.labels(pull["number"])
    publish(stack, world.org, "1.3.3")
    assert pull_for(world.org, "dev", "1.3.3")["number"] == pull["number"]


def latest_check(world: World, number: int) -> dict[str, Any]:
    sha = world.pull(number)["head"]["sha"]
    runs = [r for r in world.org.view.check_runs(world.env, sha) if r["name"] == "promotion-policy"]
    return max(runs, key=lambda r: r["id"])


@dataclass
class RolledBack:
    """Staging went from 1.2.0 to 1.3.0 by the merged promotion PR ``where``, then someone asked
    there for a rollback: by ``comment``, or with the button of its check run."""

    world: World
    where: int
    comment: int | None
    back: dict[str, Any]  # the open PR back


ROLLBACKS = {"/rollback in staging": "rollback-comment", "button": "rollback-button"}


@pytest.fixture(scope="module", params=list(ROLLBACKS))
def rolled_back(stack: Stack, request: pytest.FixtureRequest) -> RolledBack:
    asked: str = request.param
    world = build_world(stack, ROLLBACKS[asked])
    world.say("writer", world.issue(), "/promote to staging")
    [promoted] = open_pulls(world, "staging")
    where = promoted["number"]
    check = latest_check(world, where)
    world.run(calls.ActAs(world.login("writer")).merge(world.org.name, "env", where))
    comment = None
    if asked.startswith("/"):
        comment = world.say("writer", where, asked)
    else:  # GitHub names no PR in a merged PR's check run event; the bot finds it
        world.run(
            calls.ActAs(world.login("writer")).click(world.org.name, "env", check["id"], "rollback")
        )
        world.settle()
    [back] = open_pulls(world, "staging")
    return RolledBack(world, where, comment, back)


def test_rollback_opens_a_pr_back_and_holds_the_lane(stack: Stack, rolled_back: RolledBack) -> None:
    world, back = rolled_back.world, rolled_back.back
    if rolled_back.comment is not None:
        assert world.reactions(rolled_back.comment) == ["eyes", "rocket"]
    assert back["title"] == "Roll back api in staging to 1.2.0"
    assert world.org.view.file(world.env, "envs/staging/values.yaml", back["head"]["ref"]) == (
        values(world.org.name, "1.2.0")
    )
    assert "is held so 1.3.0 is not proposed again" in world.replies(rolled_back.where)[-1]
    [hold] = world.holds()
    assert "rolled back from 1.3.0 to 1.2.0" in hold["body"]
    # dev moves on and its merge offers staging the next version: the hold keeps the PR back.
    publish(stack, world.org, "1.3.1")
    dev = pull_for(world.org, "dev", "1.3.1")
    world.run(calls.ActAs(world.login("writer")).merge(world.org.name, "env", dev["number"]))
    world.settle()
    assert [p["number"] for p in open_pulls(world, "staging")] == [back["number"]]
    assert world.pull(back["number"])["head"]["sha"] == back["head"]["sha"]


def test_a_rollback_pr_is_not_stopped_by_its_own_hold(rolled_back: RolledBack) -> None:
    world, back = rolled_back.world, rolled_back.back
    assert "promotion-held" not in world.labels(back["number"])
    summary = latest_check(world, back["number"])["output"]["summary"]
    assert "❌ **hold**" not in summary and "❌ **upstream**" not in summary


def post_as(world: World, token: str, number: int, body: str) -> int:
    """A comment through the REST API with ``token`` (an App's or a person's)."""
    response = httpx.post(
        f"{world.stack.url}/repos/{world.env}/issues/{number}/comments",
        json={"body": body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    response.raise_for_status()
    return int(response.json()["id"])


def comment_deliveries(world: World, comment_id: int) -> list[int]:
    """The ids of the bot's ``issue_comment`` deliveries about ``comment_id``."""
    return [
        d["id"]
        for d in world.run(calls.deliveries(event="issue_comment"))
        if d["app_id"] == world.stack.app.id
        and json.loads(d["request"]["body"])["comment"]["id"] == comment_id
    ]


def test_bots_and_edits_trigger_nothing_and_a_redelivery_runs_once(stack: Stack) -> None:
    world = build_world(stack, "quiet")
    number = world.issue()
    command = "/promote to staging"
    other = world.run(
        calls.create_app("other-bot", owner=world.org.name, permissions={"issues": "write"})
    )
    installed = world.run(calls.install_app(other.id, world.org.name))
    by_other = post_as(world, world.run(calls.installation_token(installed.id)), number, command)
    own_token = world.run(calls.installation_token(world.org.installation_id))
    by_itself = post_as(world, own_token, number, command)
    edited = world.say("maintainer", number, "Looks good to me")
    response = httpx.patch(
        f"{stack.url}/repos/{world.env}/issues/comments/{edited}",
        json={"body": command},
        headers={"Authorization": f"Bearer {world.tokens['maintainer']}"},
        timeout=10.0,
    )
    response.raise_for_status()
    world.settle()
    # The bot was told of each (the edit too), and did nothing.
    sent = [len(comment_deliveries(world, c)) for c in (by_other, by_itself, edited)]
    assert sent == [1, 1, 2]
    assert world.replies(number) == [command]  # the one the test posted as the bot
    assert [world.reactions(c) for c in (by_other, by_itself, edited)] == [[], [], []]
    assert promotion_pulls(world.org, "staging", "all") == []
    asked = world.say("writer", number, command)
    [pull] = open_pulls(world, "staging")
    [delivery] = comment_deliveries(world, asked)
    app = stack.app_github()  # kept: githubkit's namespaces need their client alive
    app.rest.apps.redeliver_webhook_delivery(delivery)
    world.settle()
    assert len(comment_deliveries(world, asked)) == 2  # it was sent again
    assert [p["number"] for p in promotion_pulls(world.org, "staging", "all")] == [pull["number"]]
    assert len(world.replies(number)) == 2 and world.reactions(asked) == ["eyes", "rocket"]


def test_a_button_does_what_the_comment_does_with_the_clickers_permission(stack: Stack) -> None:
    world = build_world(stack, "buttons")
    world.say("manager", world.issue(), "/promote api 1.3.0 to prod")
    [pull] = open_pulls(world, "prod")
    number = pull["number"]
    table = [  # (who clicks, which button, held afterwards, the reply says)
        ("maintainer", "hold", True, "Held api in prod"),  # write access is enough to hold
        ("maintainer", "unhold", True, "/unhold in prod needs approval from"),
        ("manager", "unhold", False, "Lifted the hold on api in prod"),
        ("writer", "drift", False, "Recomputed the review comment"),
    ]
    for who, button, held, said in table:
        check = latest_check(world, number)
        world.run(calls.ActAs(world.login(who)).click(world.org.name, "env", check["id"], button))
        world.settle()
        reply = world.replies(number)[-1]
        assert reply.startswith(f"{world.login(who)}'s click: ") and said in reply, reply
        assert ("promotion-held" in world.labels(number)) is held, (who, button)
        gate = "❌ **hold**" if held else "✅ **hold**"
        assert gate in latest_check(world, number)["output"]["summary"]
    assert len(world.holds()) == 0


@pytest.fixture(scope="module")
def hostile_world(stack: Stack) -> World:
    return build_world(stack, "hostile")


HOSTILE = [
    "/promote [x](http://evil) to staging",
    "/promote <img src=x onerror=alert(1)> to staging",
    "/promote api @everyone to staging",
    "/promote @hostile/release-managers to staging",
    "/promote api 1.0.0 to ../../etc",
    "/promote api {tag: 9.9.9, repository: evil} to staging",
    "/rollback api to 1.0.0](http://evil) in staging",
    "/unhold api in <b>staging</b>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_arguments_change_nothing_and_come_back_escaped(
    hostile_world: World, body: str
) -> None:
    world = hostile_world
    heads = world.org.view.heads(world.env)
    number = world.issue(title="Hostile")
    comment = world.say("writer", number, body)
    [reply] = world.replies(number)
    assert world.reactions(comment) == ["confused"], reply  # refused as it was read
    for live in ("<", "](", "@everyone", "@hostile/"):
        assert live not in reply, reply
    assert world.org.view.heads(world.env) == heads
    assert world.holds() == [] and promotion_pulls(world.org, "staging", "all") == []


def test_a_hostile_hold_reason_is_kept_escaped(hostile_world: World) -> None:
    world = hostile_world
    number = world.issue(title="Hostile hold")
    reason = "<b>@hostile/release-managers</b> ![x](http://evil/x.png) --> image: {tag: evil}"
    world.say("writer", number, f"/hold api in staging {reason}")
    [hold] = world.holds()
    shown = hold["body"].split("<!-- promotion-bot:v1")[0]
    for live in ("<", "](http://evil", "@hostile/"):
        assert live not in shown + hold["title"], shown
    assert world.replies(number)[0].count("@") == 1  # the asker, and nobody else
    world.say("writer", number, "/unhold api in staging")
    assert world.holds() == []
