"""A pull request page in headless Chromium: the body is Markdown a person can read (a table, a
collapsed list), and a body that tries every way to run a script runs none. The screenshot goes
to ``test-artifacts/``; skipped only when Chromium is missing (as in test_setup_browser)."""

from __future__ import annotations

import pytest

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import World
from tests.test_setup_browser import ARTIFACTS, CHROMIUM, chromium

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]

PWNED = "document.title='pwned'"
BODY = f"""\
Promote **web** to **prod**.

| from | to |
| --- | --- |
| 1.0.0 | 1.1.0 |

<details>
<summary>Files changed</summary>

- apps/web/values.yaml
</details>

<script>{PWNED}</script>
<img src=x onerror="{PWNED}">
<svg onload="{PWNED}"></svg>
<a href="javascript:{PWNED}">a</a> [b](javascript:{PWNED})
<!-- promotion-bot:v1 {{"kind":"promotion-pr"}} -->
"""


async def test_pull_request_page_renders_markdown_and_runs_no_script(live_world: World) -> None:
    files = {"apps/web/values.yaml": "image:\n  tag: 1.1.0\n"}
    await live_world.admin.run(
        calls.push("acme", "env", pusher="acme", branch="promote/web-prod", files=files)
    )
    github = live_world.installation_github()
    pull = await github.rest.pulls.async_create(
        "acme", "env", title="Promote web", head="promote/web-prod", base="main", body=BODY
    )
    screenshot = ARTIFACTS / "sandbox-pull-request-markdown.png"
    dom = chromium(pull.parsed_data.html_url, screenshot)
    assert "<title>#1 Promote web</title>" in dom  # no script retitled the page
    assert "<td>1.1.0</td>" in dom
    assert "<details>\n<summary>Files changed</summary>" in dom
    assert "<li>apps/web/values.yaml</li>" in dom
    assert [tag for tag in ("<script", "<img", "<svg", '<a href="javascript') if tag in dom] == []
    assert "promotion-bot:v1" not in dom
