"""New versions from images, git tags and releases open or update the right PR."""

from __future__ import annotations

import pytest

from bot.adapters.catalog import builtin_policies
from bot.core.inputs.events import ConfigPushed, ImagePushed, ReleasePublished, TagCreated
from bot.core.markup.metadata import extract
from bot.services.bump import handle_image_pushed, handle_release_published, handle_tag_created
from bot.services.config_watch import handle_config_pushed
from bot.services.workspace import ConfigCache
from tests.services.conftest import ENV_REPO, directory_repo, values, workspace
from tests.services.fakes import FakeGitHub


def pushed(tag: str, digest: str | None = None) -> ImagePushed:
    return ImagePushed(
        installation_id=1, registry="ghcr.io", repository="acme/api", tag=tag, digest=digest
    )


async def warm(gh: FakeGitHub) -> ConfigCache:
    """The state of a running bot: token, repository list and parsed config cached."""
    cache = ConfigCache(builtin_policies())
    head = gh.repos[ENV_REPO].branches["main"]
    event = ConfigPushed(installation_id=1, repo=ENV_REPO, ref="refs/heads/main", after=head)
    await handle_config_pushed(event, workspace(gh, cache))
    await workspace(gh, cache).repositories()
    gh.rest, gh.calls = 0, []
    return cache


async def test_push_opens_dev_pr_within_eight_calls(gh: FakeGitHub) -> None:
    directory_repo(gh)
    cache = await warm(gh)
    outcomes = await handle_image_pushed(pushed("1.3.0"), workspace(gh, cache))
    assert [(o.environment, o.action) for o in outcomes] == [("dev", "opened")]
    (pull,) = gh.pulls_of(ENV_REPO)
    assert (pull.head_ref, pull.base_ref, pull.title) == (
        "promotion/api/dev",
        "main",
        "Promote api 1.3.0 to dev",
    )
    assert gh.files_at(ENV_REPO, "promotion/api/dev")["envs/dev/values.yaml"] == values("1.3.0")
    meta = extract(pull.body)
    assert meta is not None
    assert (meta.app, meta.environment, meta.version, meta.from_) == (
        "api",
        "dev",
        "1.3.0",
        "1.2.0",
    )
    assert gh.rest <= 8, gh.calls  # 7, and the heads read again just before writing


async def test_newer_push_updates_the_same_pr_within_eight_calls(gh: FakeGitHub) -> None:
    directory_repo(gh)
    cache = await warm(gh)
    await handle_image_pushed(pushed("1.3.0"), workspace(gh, cache))
    # The review pass labelled it, then a person asked to wait.
    gh.issues[(ENV_REPO, 1)].labels = ["promotion", "do-not-merge"]
    gh.rest, gh.calls = 0, []
    outcomes = await handle_image_pushed(pushed("1.3.1"), workspace(gh, cache))
    assert [(o.environment, o.action, o.number) for o in outcomes] == [("dev", "updated", 1)]
    assert len(gh.pulls_of(ENV_REPO)) == 1
    issue = gh.issues[(ENV_REPO, 1)]
    meta = extract(issue.body)
    assert meta is not None and (meta.version, meta.superseded) == ("1.3.1", ("1.3.0",))
    # The update sends title and body only: the person's label stays (PATCH issues/{n} with
    # ``labels`` would replace the whole set on GitHub).
    assert "1.3.0" in issue.body and issue.labels == ["promotion", "do-not-merge"]
    assert gh.files_at(ENV_REPO, "promotion/api/dev")["envs/dev/values.yaml"] == values("1.3.1")
    assert gh.rest <= 8, gh.calls  # 6, and the heads and the PR read again before writing


async def test_redelivery_makes_no_second_pr_and_no_second_commit(gh: FakeGitHub) -> None:
    directory_repo(gh)
    await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    head = gh.repos[ENV_REPO].branches["promotion/api/dev"]
    outcomes = await handle_image_pushed(pushed("1.3.0"), workspace(gh))
    assert [o.action for o in outcomes] == ["skipped"]
    assert "already proposed" in outcomes[0].reason
    assert len(gh.pulls_of(ENV_REPO)) == 1
    assert gh.repos[ENV_REPO].branches["promotion/api/dev"] == head
    assert gh.count("git.commit_files") == 1


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("1.3.1", "1.3.0", "already proposes 1.3.1, newer than 1.3.0"),
        ("1.3.0", "1.1.0", "refuses 1.1.0"),
        ("1.3.0", "1.3.0-rc.1", "refuses 1.3.0-rc.1"),
    ],
)
async def test_versions_that_are_not_newer_change_nothing(
    gh: FakeGitHub, first: str, second: str, reason: str
) -> None:
    directory_repo(gh)
    await handle_image_pushed(pushed(first), workspace(gh))
    (outcome,) = await handle_image_pushed(pushed(second), workspace(gh))
    assert outcome.action == "skipped" and reason in outcome.reason
    assert gh.count("git.commit_files") == 1


async def test_image_of_no_app_does_nothing(gh: FakeGitHub) -> None:
    directory_repo(gh)
    event = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/web", tag="2.0.0")
    assert await handle_image_pushed(event, workspace(gh)) == []
    assert gh.pulls_of(ENV_REPO) == []


@pytest.mark.parametrize(
    ("tag", "env", "version"),
    [("v1.4.0", "dev", "1.4.0"), ("1.4.0", "dev", "1.4.0")],
)
async def test_git_tag_maps_to_image_tag(gh: FakeGitHub, tag: str, env: str, version: str) -> None:
    directory_repo(gh)
    (outcome,) = await handle_tag_created(
        TagCreated(installation_id=1, repo="acme/api", tag=tag), workspace(gh)
    )
    assert (outcome.environment, outcome.action) == (env, "opened")
    meta = extract(gh.issues[(ENV_REPO, 1)].body)
    assert meta is not None and meta.version == version


PER_ENV_TAGS = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
  - name: prod
    path: envs/prod
apps:
  api:
    image: ghcr.io/acme/api
    source: acme/api
    tag_pattern: "(?P<environment>dev|staging|prod)-v(?P<version>.+)"
"""


async def test_per_environment_tag_targets_its_environment(gh: FakeGitHub) -> None:
    directory_repo(gh, config=PER_ENV_TAGS)
    event = ReleasePublished(installation_id=1, repo="acme/api", tag="prod-v1.2.1")
    (outcome,) = await handle_release_published(event, workspace(gh))
    assert (outcome.environment, outcome.action) == ("prod", "opened")
    branch = gh.files_at(ENV_REPO, "promotion/api/prod")
    assert branch["envs/prod/values.yaml"] == values("1.2.1")
    assert branch["envs/dev/values.yaml"] == values("1.2.0")


async def test_tag_and_release_of_one_version_make_one_pr(gh: FakeGitHub) -> None:
    directory_repo(gh)
    await handle_tag_created(
        TagCreated(installation_id=1, repo="acme/api", tag="v1.4.0"), workspace(gh)
    )
    release = ReleasePublished(installation_id=1, repo="acme/api", tag="v1.4.0")
    (outcome,) = await handle_release_published(release, workspace(gh))
    assert outcome.action == "skipped"
    assert len(gh.pulls_of(ENV_REPO)) == 1
