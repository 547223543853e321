"""Symbolic links and executables in an environment: the bot never edits through a link, and
says so where the user reads (the skip reason, the PR body); git's modes are ``100644`` file,
``100755`` executable, ``120000`` symbolic link (GitHub's OpenAPI ``git/create-tree``: "a blob
that specifies the path of a symlink")."""

from __future__ import annotations

from bot.core.inputs.events import ImagePushed, PullChanged
from bot.services.bump import handle_image_pushed
from bot.services.github_ports import SYMLINK
from bot.services.review import handle_pull_changed
from tests.services.conftest import ENV_REPO, directory_repo, values, workspace
from tests.services.fakes import FakeGitHub, blob_sha

LINK = "envs/dev/values.yaml"


def pushed(tag: str) -> ImagePushed:
    return ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag=tag)


async def test_a_link_is_skipped_with_the_reason_in_the_outcome(gh: FakeGitHub) -> None:
    directory_repo(gh)
    # dev's values file is a link to a shared file: its blob is the target's path.
    gh.push(
        ENV_REPO,
        "main",
        {LINK: "../shared/values.yaml", "envs/shared/values.yaml": values("1.2.0")},
    )
    gh.modes[LINK] = SYMLINK
    (outcome,) = await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert (outcome.environment, outcome.action) == ("dev", "skipped")
    assert f"left alone: {LINK} (a symbolic link" in outcome.reason
    assert gh.count("git.commit_files") == 0
    # Never read either: the link's blob is its target's path, not the file.
    assert ("git.read_blob", ENV_REPO, blob_sha("../shared/values.yaml")) not in gh.calls


async def test_the_pr_names_the_link_it_left_and_keeps_the_link(gh: FakeGitHub) -> None:
    directory_repo(gh)
    config = gh.files_at(ENV_REPO, "main")[".github/promotion.yml"]
    config = config.replace('files: ["values.yaml"]', 'files: ["*.yaml"]')
    link = "envs/dev/linked.yaml"
    gh.push(ENV_REPO, "main", {".github/promotion.yml": config, link: "../prod/values.yaml"})
    gh.modes[link] = SYMLINK
    (outcome,) = await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert (outcome.environment, outcome.action) == ("dev", "opened")
    (pull,) = gh.pulls_of(ENV_REPO)
    assert f"left alone: {link}" in pull.body and "a symbolic link" in pull.body
    (commit,) = [call for call in gh.calls if call[0] == "git.commit_files"]
    files = commit[4]
    assert isinstance(files, dict) and list(files) == ["envs/dev/values.yaml"]


async def test_a_review_never_reads_a_link_as_its_file(gh: FakeGitHub) -> None:
    directory_repo(gh)
    link = "envs/prod/linked.yaml"
    gh.branch(ENV_REPO, "alice/link", {link: "../dev/values.yaml"})
    gh.modes[link] = SYMLINK
    pull = gh.open_person_pr(ENV_REPO, head="alice/link", base="main")
    event = PullChanged(
        installation_id=1, repo=ENV_REPO, number=pull.number, action="opened", base_ref="main"
    )
    await handle_pull_changed(event, workspace(gh))
    assert ("git.read_blob", ENV_REPO, blob_sha("../dev/values.yaml")) not in gh.calls
