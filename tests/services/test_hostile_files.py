"""Files the bot will not parse, in an environment it serves (issue 11, defects 2 and 3).

An alias bomb, a file past the size bound: each is left alone with its reason where the user
reads it (the PR body, the review comment), the other files are served as usual, and a file too
big is never even fetched.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.core.config import ConfigError
from bot.core.files.bounds import MAX_FILE_BYTES, yaml_refusal
from bot.core.inputs.events import ImagePushed, PullChanged
from bot.services import workspace as workspace_module
from bot.services.bump import handle_image_pushed
from bot.services.review import handle_pull_changed
from tests.hostile import laughs, padding
from tests.services.conftest import ENV_REPO, directory_repo, workspace
from tests.services.fakes import FakeGitHub, blob_sha

BOMB = "envs/dev/bomb.yaml"
BIG = "envs/dev/big.yaml"
BOMB_REASON = "over 250,000 YAML nodes once its aliases are expanded"
BIG_REASON = "1.1 MiB, over the 1 MiB the bot reads"


def big() -> str:
    return padding(MAX_FILE_BYTES)


BINARY = "envs/dev/logo.yaml"
BINARY_TEXT = "(stands for bytes that are not UTF-8)"


def hostile_dev(gh: FakeGitHub) -> None:
    directory_repo(gh)
    config = gh.files_at(ENV_REPO, "main")[".github/promotion.yml"]
    config = config.replace('files: ["values.yaml"]', 'files: ["*.yaml"]')
    hostile = {BOMB: laughs(), BIG: big(), BINARY: BINARY_TEXT}
    gh.push(ENV_REPO, "main", {".github/promotion.yml": config, **hostile})
    gh.not_text.add(blob_sha(BINARY_TEXT))


async def test_a_push_is_served_and_the_pr_names_each_file_left_and_why(gh: FakeGitHub) -> None:
    hostile_dev(gh)
    started = time.perf_counter()
    pushed = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    (outcome,) = await handle_image_pushed(pushed, workspace(gh))
    assert time.perf_counter() - started < 10
    assert (outcome.environment, outcome.action) == ("dev", "opened")
    assert f"{BOMB} ({BOMB_REASON})" in outcome.reason
    assert f"{BINARY} (not UTF-8 text)" in outcome.reason
    (pull,) = gh.pulls_of(ENV_REPO)
    body = gh.issues[(ENV_REPO, pull.number)].body  # Markdown: the parentheses are escaped
    assert f"{BOMB} \\({BOMB_REASON}\\)" in body and f"{BIG} \\({BIG_REASON}\\)" in body
    assert ("git.read_blob", ENV_REPO, blob_sha(big())) not in gh.calls  # never fetched


async def test_a_pr_touching_them_is_reviewed_with_a_section_naming_them(gh: FakeGitHub) -> None:
    """Before, reviewing the bomb expanded its aliases on the event loop: the process hung."""
    directory_repo(gh)
    gh.branch(ENV_REPO, "mallory/bomb", {BOMB: laughs(), BIG: big()})
    pull = gh.open_person_pr(ENV_REPO, head="mallory/bomb", base="main")
    event = PullChanged(
        installation_id=1, repo=ENV_REPO, number=pull.number, action="opened", base_ref="main"
    )
    started = time.perf_counter()
    await handle_pull_changed(event, workspace(gh))
    assert time.perf_counter() - started < 10
    (body,) = [c.body for r, n, c in gh.comments.values() if (r, n) == (ENV_REPO, pull.number)]
    assert "#### Not reviewed" in body
    assert f"- bomb.yaml: {BOMB_REASON}" in body and f"- big.yaml: {BIG_REASON}" in body
    assert "(added)" not in body  # a file not read is not reported as added either


async def test_a_config_file_too_big_is_an_error_and_never_fetched(gh: FakeGitHub) -> None:
    directory_repo(gh)
    gh.push(ENV_REPO, "main", {".github/promotion.yml": big()})
    ws = workspace(gh)
    tree = await ws.tree_of(ENV_REPO, "main")
    assert tree is not None
    error = await ws.parse_config_at(ENV_REPO, tree)
    assert isinstance(error, ConfigError)
    assert str(error) == f".github/promotion.yml:1:1: (document): file too large: {BIG_REASON}"
    assert ("git.read_blob", ENV_REPO, blob_sha(big())) not in gh.calls


async def test_a_job_checks_each_blob_against_the_bounds_once(
    gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push reads the first environment to pick the version, then again to plan: the bounds
    (a stream over every event of the file) are checked once per blob, not per read."""
    hostile_dev(gh)
    checked: list[str] = []

    def counting(text: str, **bounds: Any) -> str | None:
        checked.append(text)
        return yaml_refusal(text, **bounds)

    monkeypatch.setattr(workspace_module, "yaml_refusal", counting)
    pushed = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    await handle_image_pushed(pushed, workspace(gh))
    assert checked.count(laughs()) == 1 and len(checked) == len(set(checked))
