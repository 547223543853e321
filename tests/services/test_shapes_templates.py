"""A values file whose second document is a Helm template (issue 14): the bot promotes the image
in the first document, and the PR body and the review comment name the document it skipped."""

from __future__ import annotations

from bot.core.inputs.events import ImagePushed, PullChanged
from bot.services.bump import handle_image_pushed
from bot.services.review import handle_pull_changed
from tests.services.conftest import ENV_REPO, directory_repo, values, workspace
from tests.services.fakes import FakeGitHub

TEMPLATE = "---\n{{- if .Values.jobs }}\nkind: Job\n{{- end }}\n"
SKIPPED = "values.yaml document 2 (line 5)"
REASON = "a Helm template that does not parse as YAML: did not find expected node content line=6"
MARKDOWN = SKIPPED.replace("(", "\\(").replace(")", "\\)")  # the bodies escape parentheses


async def test_the_image_is_promoted_and_the_pr_names_the_skipped_document(gh: FakeGitHub) -> None:
    directory_repo(gh)
    gh.push(ENV_REPO, "main", {"envs/dev/values.yaml": values("1.2.0") + TEMPLATE})
    pushed = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    (outcome,) = await handle_image_pushed(pushed, workspace(gh))
    assert (outcome.environment, outcome.action) == ("dev", "opened")
    assert f"envs/dev/{SKIPPED} ({REASON}" in outcome.reason
    (pull,) = gh.pulls_of(ENV_REPO)
    assert f"envs/dev/{MARKDOWN} \\({REASON}" in gh.issues[(ENV_REPO, pull.number)].body
    head = gh.files_at(ENV_REPO, pull.head_ref)["envs/dev/values.yaml"]
    assert head == values("1.3.0") + TEMPLATE


async def test_a_pr_touching_the_file_is_reviewed_and_names_the_document(gh: FakeGitHub) -> None:
    directory_repo(gh)
    gh.branch(ENV_REPO, "person/edit", {"envs/dev/values.yaml": values("1.2.1") + TEMPLATE})
    pull = gh.open_person_pr(ENV_REPO, head="person/edit", base="main")
    event = PullChanged(
        installation_id=1, repo=ENV_REPO, number=pull.number, action="opened", base_ref="main"
    )
    await handle_pull_changed(event, workspace(gh))
    (body,) = [c.body for r, n, c in gh.comments.values() if (r, n) == (ENV_REPO, pull.number)]
    assert "#### Not reviewed" in body
    assert f"- {MARKDOWN}: {REASON}" in body
    assert "1.2.0" in body and "1.2.1" in body  # the readable document is still compared
