"""``author_association`` on comments, issues, pull requests and reviews, in REST answers and in
the webhooks; and ``performed_via_github_app`` on what an App makes.

Sources:
- the values and their meanings: OpenAPI schema ``author-association`` and GitHub's GraphQL
  reference, enum ``CommentAuthorAssociation`` (docs.github.com/graphql/reference/enums): OWNER
  "is the owner of the repository", MEMBER "is a member of the organization that owns the
  repository", COLLABORATOR "has been invited to collaborate on the repository", CONTRIBUTOR
  "has previously committed to the repository", NONE "has no association";
- private members: webhooks are built without a reader, so a private organisation membership is
  not shown there (members appear as COLLABORATOR, CONTRIBUTOR or NONE), while a reader who may
  see it gets MEMBER (``notes/github-facts.md``; actions/github-script#365 and #643);
- ``performed_via_github_app``: OpenAPI ``issue-comment`` and ``issue`` (a ``nullable-integration``,
  the App object); ``null`` for a person's comment as in the corpus payload
  ``webhooks/api.github.com/issue_comment/created.payload.json``.
"""

from __future__ import annotations

from typing import Any

from githubkit.webhooks import parse_obj

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import ActAs, Call
from github_sandbox.pulls_model import find_pull
from github_sandbox.pulls_reviews import review_payload
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import checked_github, hooks_of, push_branch

TEAM = "deployers"
# Who each person is to acme/env, and how they are told (webhook, installation, stranger).
PEOPLE: dict[str, tuple[list[Call[Any]], tuple[str, str, str]]] = {
    "pub": ([calls.add_org_member(OWNER, "pub", public=True)], ("MEMBER",) * 3),
    "priv": ([calls.add_org_member(OWNER, "priv")], ("NONE", "MEMBER", "NONE")),
    "privcollab": (
        [
            calls.add_org_member(OWNER, "privcollab"),
            calls.grant_role(OWNER, REPO, "privcollab", "write"),
        ],
        ("COLLABORATOR", "MEMBER", "COLLABORATOR"),
    ),
    "teamed": (
        [
            calls.grant_team_repo(OWNER, TEAM, OWNER, REPO, "push"),
            calls.add_team_member(OWNER, TEAM, "teamed"),
        ],
        ("NONE", "MEMBER", "NONE"),
    ),
    "invited": (
        [calls.add_team_member(OWNER, TEAM, "invited", state="pending")],
        ("NONE",) * 3,
    ),
    "outside": ([calls.grant_role(OWNER, REPO, "outside", "write")], ("COLLABORATOR",) * 3),
    "committer": (
        [calls.push(OWNER, REPO, pusher="committer", branch="main", files={"c.txt": "c\n"})],
        ("CONTRIBUTOR",) * 3,
    ),
    "stranger": ([], ("NONE",) * 3),
    OWNER: ([], ("OWNER",) * 3),  # the sandbox lets the owning account itself act
}


async def seed_people(world: World) -> None:
    await world.admin.run(calls.create_team(OWNER, "Deployers"))
    for login, (setup, _) in PEOPLE.items():
        if login != OWNER:
            await world.admin.run(calls.create_user(login))
        for call in setup:
            await world.admin.run(call)


async def test_comment_associations(world: World) -> None:
    await seed_people(world)
    async with checked_github(world) as gh:
        issue = (await gh.rest.issues.async_create(OWNER, REPO, title="drift")).parsed_data
    for login in PEOPLE:
        await world.admin.run(ActAs(login).comment(OWNER, REPO, issue.number, f"hi from {login}"))
    hooks = await hooks_of(world, "issue_comment")
    by_webhook = {h["comment"]["user"]["login"]: h["comment"]["author_association"] for h in hooks}
    async with checked_github(world) as gh:
        listed = await gh.rest.issues.async_list_comments(OWNER, REPO, issue.number)
        by_installation = {c.user.login: c.author_association for c in listed.parsed_data if c.user}
    stranger = await world.admin.run(calls.create_user("reader"))
    async with world.token_github(stranger.token) as gh:
        listed = await gh.rest.issues.async_list_comments(OWNER, REPO, issue.number)
        by_stranger = {c.user.login: c.author_association for c in listed.parsed_data if c.user}
    told = {
        login: (by_webhook[login], by_installation[login], by_stranger[login]) for login in PEOPLE
    }
    assert told == {login: expected for login, (_, expected) in PEOPLE.items()}


async def test_private_member_sees_private_members(world: World) -> None:
    """A member reading (their own token) is told MEMBER for a private member."""
    member = await world.admin.run(calls.create_user("insider"))
    await world.admin.run(calls.add_org_member(OWNER, "insider"))
    comment = await world.admin.run(
        ActAs("insider").open_issue(OWNER, REPO, title="from a private member")
    )
    assert comment["author_association"] == "MEMBER"
    async with world.token_github(member.token) as gh:
        got = (await gh.rest.issues.async_get(OWNER, REPO, comment["number"])).parsed_data
    assert got.author_association == "MEMBER"
    hooks = await hooks_of(world, "issues")
    assert hooks[0]["issue"]["author_association"] == "NONE"


async def test_owner_of_a_user_repository(world: World) -> None:
    olive = await world.admin.run(calls.create_user("olive"))
    await world.admin.run(calls.create_repo("olive", "site", files={"i": "i\n"}, owner_type="User"))
    issue = await world.admin.run(ActAs("olive").open_issue("olive", "site", title="mine"))
    async with world.token_github(olive.token) as gh:
        got = (await gh.rest.issues.async_get("olive", "site", issue["number"])).parsed_data
    assert (issue["author_association"], got.author_association) == ("OWNER", "OWNER")


async def test_pull_request_and_review_associations(world: World) -> None:
    await seed_people(world)
    await push_branch(world, "feature", {"apps/web/values.yaml": "image:\n  tag: 2.0.0\n"})
    pull = await world.admin.run(
        ActAs("priv").open_pull(OWNER, REPO, head="feature", base="main", title="Promote")
    )
    assert pull["author_association"] == "MEMBER"  # as priv, a member, sees it
    opened = (await hooks_of(world, "pull_request"))[0]
    assert opened["pull_request"]["author_association"] == "NONE"
    async with checked_github(world) as gh:
        got = (await gh.rest.pulls.async_get(OWNER, REPO, pull["number"])).parsed_data
    assert got.author_association == "MEMBER"
    review = await world.admin.run(ActAs("outside").approve(OWNER, REPO, pull["number"]))
    sandbox = world.sandbox
    repo = sandbox.repo_by_name(OWNER, REPO)
    stored = sandbox.store.get("review", review["id"])
    assert repo is not None and stored is not None
    payload = review_payload(sandbox, repo, find_pull(sandbox, repo, pull["number"]), stored)
    event = parse_obj("pull_request_review", payload)
    assert event.review.author_association == "COLLABORATOR"


async def test_app_comments_carry_the_app(world: World) -> None:
    """An installation token's comment and issue: ``user`` is the bot ``promoter[bot]`` of type
    Bot, ``performed_via_github_app`` the App; a person's stay ``null``."""
    async with checked_github(world) as gh:
        issue = (await gh.rest.issues.async_create(OWNER, REPO, title="drift")).parsed_data
        made = await gh.rest.issues.async_create_comment(OWNER, REPO, issue.number, body="/hold")
    comment = made.parsed_data
    for thing in (issue, comment):
        app = thing.performed_via_github_app
        assert app is not None and thing.user is not None
        assert (app.id, app.slug, app.name) == (world.app.id, "promoter", "promoter")
        assert app.owner is not None and app.owner.login == OWNER
        assert (thing.user.login, thing.user.type) == ("promoter[bot]", "Bot")
    assert comment.user is not None and comment.user.html_url.endswith("/apps/promoter")
    dev = await world.admin.run(calls.create_user("dev"))
    async with world.token_github(dev.token) as gh:
        mine = await gh.rest.issues.async_create_comment(OWNER, REPO, issue.number, body="ok")
    assert mine.parsed_data.performed_via_github_app is None
    acted = await world.admin.run(ActAs("dev").comment(OWNER, REPO, issue.number, "again"))
    assert acted["performed_via_github_app"] is None
    hooks = await hooks_of(world, "issue_comment")
    apps = [(h["comment"]["user"]["type"], h["comment"]["performed_via_github_app"]) for h in hooks]
    assert [(kind, app and app["slug"]) for kind, app in apps] == [
        ("Bot", "promoter"),
        ("User", None),
        ("User", None),
    ]
    assert hooks[0]["sender"]["type"] == "Bot"
    opened = (await hooks_of(world, "issues"))[0]
    assert opened["issue"]["performed_via_github_app"]["id"] == world.app.id


async def test_edits_keep_the_app(world: World) -> None:
    """``performed_via_github_app`` tells which App made the comment, whoever edits it later."""
    async with checked_github(world) as gh:
        issue = (await gh.rest.issues.async_create(OWNER, REPO, title="t")).parsed_data
        made = await gh.rest.issues.async_create_comment(OWNER, REPO, issue.number, body="x")
    dev = await world.admin.run(calls.create_user("dev"))
    await world.admin.run(calls.grant_role(OWNER, REPO, "dev", "write"))
    async with world.token_github(dev.token) as gh:
        edited = await gh.rest.issues.async_update_comment(
            OWNER, REPO, made.parsed_data.id, body="y"
        )
    app = edited.parsed_data.performed_via_github_app
    assert app is not None and app.id == world.app.id
