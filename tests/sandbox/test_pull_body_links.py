"""Every link the real bot writes in a promotion PR body leads to a sandbox page that shows what
the link promises: the compare page lists the commits between the two tags and their diff, the
release page shows the notes as Markdown. The stack is the demo's harness (sandbox and bot in
this process); the app repository is tagged and released as its CI would before the image is
pushed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.harness import Stack, start_stack
from bot.demo.links import broken_links, follow, markdown_links
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from tests.e2e.scenes import APP_REPO, directory_repo

pytestmark = pytest.mark.e2e

ORG = "links"
PERSON = "links-dev"
NOTES = "## Fixes\n- checkout no longer times out\n\n<script>alert(1)</script>"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = start_stack(tmp_path, org=ORG)
    yield running
    running.stop()


def release_app(stack: Stack) -> None:
    """The app repository as CI leaves it: v1.2.0, a fix, v1.3.0 and its release notes."""
    admin = stack.admin
    admin.run(calls.create_repo(ORG, "api", files=APP_REPO))
    admin.run(calls.create_repo(ORG, "env", files=directory_repo(ORG)))
    person = admin.run(calls.create_user(PERSON))
    for repo in ("api", "env"):
        admin.run(calls.grant_role(ORG, repo, PERSON, "write"))
    admin.run(calls.push(ORG, "api", pusher=PERSON, tags={"v1.2.0": "main"}))
    fix = {"app/checkout.py": "TIMEOUT = 30\n"}
    admin.run(calls.push(ORG, "api", pusher=PERSON, files=fix, message="Fix checkout timeout"))
    headers = {"Authorization": f"Bearer {person.token}"}
    release = {"tag_name": "v1.3.0", "target_commitish": "main", "name": "1.3.0", "body": NOTES}
    created = httpx.post(
        f"{stack.url}/repos/{ORG}/api/releases", json=release, headers=headers, timeout=10
    )
    assert created.status_code == 201, created.text


def dev_pull(stack: Stack) -> dict[str, Any]:
    view = stack.view(stack.admin.run(calls.create_user("links-reader")).token)

    def opened() -> dict[str, Any] | None:
        pulls = view.pulls(f"{ORG}/env", state="open")
        found = [p for p in pulls if p["head"]["ref"] == "promotion/api/dev"]
        return found[0] if found else None

    # A minute: the bot shares two cores with the rest of the suite.
    return wait_until(opened, "the dev promotion PR", timeout=60)


# (the link's path on the sandbox, fragments its page shows)
EXPECTED = {
    f"/{ORG}/api/compare/v1.2.0...v1.3.0": [
        "1 ahead",
        "Fix checkout timeout",
        "app/checkout.py",
        "<span class='add'>+TIMEOUT = 30</span>",
    ],
    f"/{ORG}/api/releases/tag/v1.3.0": [
        "<h2>Fixes</h2>",
        "<li>checkout no longer times out</li>",
        "&lt;script&gt;",
    ],
}


def test_every_link_in_a_promotion_body_resolves(stack: Stack) -> None:
    release_app(stack)
    stack.install(ORG)
    stack.admin.run(calls.publish_package(ORG, "api", repository="api", tag="1.3.0"))
    pull = dev_pull(stack)
    links = markdown_links(pull["body"])
    assert sorted(link.removeprefix(stack.url) for link in links) == sorted(EXPECTED), pull["body"]
    pages = follow([*links, pull["html_url"]])
    for link in links:
        page, fragments = pages[link], EXPECTED[link.removeprefix(stack.url)]
        assert page.status_code == 200, link
        assert [f for f in fragments if f not in page.text] == [], link
        assert "<script>" not in page.text
    shown = pages[pull["html_url"]].text
    assert all(f'<a href="{link}">' in shown for link in links)  # the body as Markdown
    assert "promotion-bot:v1" not in shown  # its hidden metadata is not shown
    assert broken_links(pull["body"], base_url=stack.url) == []
    missing = f"{stack.url}/{ORG}/api/releases/tag/v9.9.9"
    assert broken_links(f"[notes]({missing})", base_url=stack.url) == [f"{missing} 404"]
