"""The people pages render, escape hostile text, and are where ``html_url`` points."""

from __future__ import annotations

import httpx
import pytest

from bot.core.promotion.model import Promotion
from bot.core.promotion.render import render_promotion_body
from github_sandbox.admin_client import ActAs
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import Client, checked_github, open_feature

HOSTILE = "<script>alert('x')</script>"


async def fetch(world: World, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=world.transport, base_url=world.base_url) as client:
        return await client.get(path)


@pytest.fixture
async def pull_number(world: World) -> int:
    gh: Client
    async with checked_github(world) as gh:
        number = await open_feature(gh, world)
        await gh.rest.pulls.async_update(OWNER, REPO, number, title=HOSTILE, body=HOSTILE)
        await gh.rest.issues.async_create_comment(OWNER, REPO, number, body=HOSTILE)
        head = (await gh.rest.pulls.async_get(OWNER, REPO, number)).parsed_data.head.sha
        await gh.rest.checks.async_create(
            OWNER,
            REPO,
            name="gate",
            head_sha=head,
            conclusion="success",
            output={"title": "ok", "summary": HOSTILE},
        )
        await gh.rest.issues.async_create(OWNER, REPO, title=HOSTILE, body=HOSTILE)
    return number


# (page, a fragment it shows); one seeded world serves them all, since seeding is the slow part.
RENDERED = [
    ("/", f"{OWNER}/{REPO}"),
    (f"/{OWNER}/{REPO}", "apps/web/values.yaml"),
    (f"/{OWNER}/{REPO}?ref=feature", "feature"),
    (f"/{OWNER}/{REPO}/pull/1", "<span class='add'>+  tag: 2.0.0</span>"),
    (f"/{OWNER}/{REPO}/pull/1", "ready to merge"),
    (f"/{OWNER}/{REPO}/pull/1", "success"),
    (f"/{OWNER}/{REPO}/issues/2", "open"),
]


async def test_pages_render_escaped(world: World, pull_number: int) -> None:
    assert pull_number == 1
    for path, expected in RENDERED:
        page = await fetch(world, path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert expected in page.text, path
        assert HOSTILE not in page.text, path


async def test_html_urls_point_at_pages(world: World, pull_number: int) -> None:
    async with checked_github(world) as gh:
        pull = (await gh.rest.pulls.async_get(OWNER, REPO, pull_number)).parsed_data
        issue = (await gh.rest.issues.async_get(OWNER, REPO, 2)).parsed_data
    for url in (pull.html_url, issue.html_url):
        page = await fetch(world, url.removeprefix(world.base_url))
        assert page.status_code == 200
        assert "&lt;script&gt;" in page.text


async def test_merged_page_and_missing_pages(world: World, pull_number: int) -> None:
    await world.admin.run(ActAs(OWNER).merge(OWNER, REPO, pull_number))
    assert "merged by acme" in (await fetch(world, f"/{OWNER}/{REPO}/pull/{pull_number}")).text
    for missing in (f"/{OWNER}/nope", f"/{OWNER}/{REPO}/pull/99", f"/{OWNER}/{REPO}/issues/99"):
        assert (await fetch(world, missing)).status_code == 404


async def test_compare_release_and_commit_links_lead_to_pages(
    world: World, pull_number: int
) -> None:
    assert pull_number == 1  # the fixture pushed ``feature``
    async with checked_github(world) as gh:
        compared = await gh.rest.repos.async_compare_commits(OWNER, REPO, "main...feature")
        release = await gh.rest.repos.async_create_release(
            OWNER, REPO, tag_name="v1.0.0", name="First", body=HOSTILE
        )
    commit = compared.parsed_data.commits[0]
    shown = {
        compared.parsed_data.html_url: ["1 ahead", "<span class='add'>+  tag: 2.0.0</span>"],
        commit.html_url: [
            commit.commit.message.splitlines()[0],
            commit.sha[:12],
            "<span class='add'>+  tag: 2.0.0</span>",
        ],
        f"{world.base_url}/{OWNER}/{REPO}/commit/{'0' * 40}": [],
        release.parsed_data.html_url: ["First", "v1.0.0", "&lt;script&gt;"],
        f"{world.base_url}/{OWNER}/{REPO}/releases/tag/v9.9.9": [],
    }
    for url, expected in shown.items():
        page = await fetch(world, url.removeprefix(world.base_url))
        assert page.status_code == (200 if expected else 404)
        assert all(fragment in page.text for fragment in expected)
        assert HOSTILE not in page.text
    missing = f"/{OWNER}/{REPO}/compare/main...nope"
    assert (await fetch(world, missing)).status_code == 404


async def test_pull_page_shows_a_promotion_body_as_markdown(world: World) -> None:
    promotion = Promotion(
        "api", "dev", "ghcr.io/acme/api", "1.2.0", "1.3.0", change_kind="minor",
        policy_name="auto", reason="1.3.0 is the newest stable tag", source_repo="acme/api",
    )  # fmt: skip
    body = render_promotion_body([promotion], web_url=world.base_url)
    async with checked_github(world) as gh:
        number = await open_feature(gh, world)
        await gh.rest.pulls.async_update(OWNER, REPO, number, body=body)
        comment = await gh.rest.issues.async_create_comment(
            OWNER, REPO, number, body="LGTM, **ship it**"
        )
        head = (await gh.rest.pulls.async_get(OWNER, REPO, number)).parsed_data.head.sha
        summary = {"title": "gate", "summary": "policy **auto** allows it"}
        await gh.rest.checks.async_create(OWNER, REPO, name="gate", head_sha=head, output=summary)
        issue = await gh.rest.issues.async_create(OWNER, REPO, title="Drift", body="### Drift")
    page = (await fetch(world, f"/{OWNER}/{REPO}/pull/{number}")).text
    issue_page = (await fetch(world, f"/{OWNER}/{REPO}/issues/{issue.parsed_data.number}")).text
    assert "<h3>Drift</h3>" in issue_page
    shown = [
        "Promote <strong>api</strong> to <strong>dev</strong>",
        "<th>environment</th>",
        "<td>minor</td>",
        "<h3>Why</h3>",
        f'<a href="{world.base_url}/acme/api/compare/v1.2.0...v1.3.0">compare 1.2.0...1.3.0</a>',
        f'<a href="{world.base_url}/acme/api/releases/tag/v1.3.0">release notes for 1.3.0</a>',
        "LGTM, <strong>ship it</strong>",
        "policy <strong>auto</strong> allows it",
    ]
    assert [fragment for fragment in shown if fragment not in page] == []
    assert "promotion-bot:v1" not in page and "| app |" not in page
    # A comment's html_url (where a /promote PR body links) lands on its anchor in that page.
    path, _, anchor = comment.parsed_data.html_url.removeprefix(world.base_url).partition("#")
    assert path == f"/{OWNER}/{REPO}/pull/{number}"
    assert f"<div id='{anchor}'>" in page
