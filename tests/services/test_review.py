"""Reviewing PRs to environments: one comment in place, drift warnings, gates, automerge."""

from __future__ import annotations

import pytest

from bot.core.inputs.events import ImagePushed, PullChanged
from bot.core.markup.metadata import extract
from bot.core.promotion.merging import MergeMethod
from bot.services.automerge import MERGE_RETRY
from bot.services.bump import handle_image_pushed
from bot.services.github_ports import MergeResult
from bot.services.ports import RetryLater
from bot.services.review import CHECK_NAME, handle_pull_changed
from tests.services.conftest import DIRECTORY_CONFIG, ENV_REPO, directory_repo, values, workspace
from tests.services.fakes import FakeGitHub


def changed(number: int, head: str, action: str = "opened", base: str = "main") -> PullChanged:
    return PullChanged(
        installation_id=1, repo=ENV_REPO, number=number, action=action, head_ref=head, base_ref=base
    )


def review_comments(gh: FakeGitHub, number: int) -> list[str]:
    return [c.body for r, n, c in gh.comments.values() if (r, n) == (ENV_REPO, number)]


async def test_persons_pr_gets_one_review_comment_with_drift_warnings(gh: FakeGitHub) -> None:
    directory_repo(gh)
    extra = "password: hunter2-plain\n"
    gh.branch(ENV_REPO, "alice/bump", {"envs/staging/values.yaml": values("1.4.0", extra)})
    pull = gh.open_person_pr(ENV_REPO, head="alice/bump", base="main")
    await handle_pull_changed(changed(pull.number, "alice/bump"), workspace(gh))
    (body,) = review_comments(gh, pull.number)
    meta = extract(body)
    assert meta is not None and (meta.kind, meta.environment) == ("review-comment", "staging")
    assert "1.4.0 is not in dev" in body  # skipped-environment
    assert "plaintext secret" in body and "hunter2" not in body
    assert gh.checks == [] and gh.count("pulls.add_labels") == 0  # not a promotion PR
    # A new commit: the same comment is edited, not a second one posted.
    gh.push(ENV_REPO, "alice/bump", {"envs/staging/values.yaml": values("1.4.0")})
    await handle_pull_changed(changed(pull.number, "alice/bump", "synchronize"), workspace(gh))
    (edited,) = review_comments(gh, pull.number)
    assert edited != body and "plaintext secret" not in edited
    await handle_pull_changed(changed(pull.number, "alice/bump", "synchronize"), workspace(gh))
    assert gh.count("comments.create") == 1 and gh.count("comments.edit") == 1


async def test_pr_outside_the_environments_is_left_alone(gh: FakeGitHub) -> None:
    directory_repo(gh)
    gh.branch(ENV_REPO, "docs", {"README.md": "# new\n"})
    pull = gh.open_person_pr(ENV_REPO, head="docs", base="main")
    await handle_pull_changed(changed(pull.number, "docs"), workspace(gh))
    assert review_comments(gh, pull.number) == [] and gh.checks == []


async def test_promotion_pr_gets_labels_and_a_passing_gate(gh: FakeGitHub) -> None:
    directory_repo(gh)
    event = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    await handle_image_pushed(event, workspace(gh))
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert gh.issues[(ENV_REPO, 1)].labels == ["promotion"]
    ((_, run),) = gh.checks
    assert (run.name, run.conclusion, run.head_sha) == (
        CHECK_NAME,
        "success",
        gh.repos[ENV_REPO].branches["promotion/api/dev"],
    )
    assert gh.count("pulls.merge") == 0  # auto, not automerge
    (body,) = review_comments(gh, 1)
    assert "1.2.0" in body and "1.3.0" in body


async def test_automerge_merges_when_the_gates_pass(gh: FakeGitHub) -> None:
    config = DIRECTORY_CONFIG.replace(
        '    files: ["values.yaml"]\n',
        '    files: ["values.yaml"]\n    policy:\n      dev: automerge\n',
    )
    directory_repo(gh, config=config)
    event = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    await handle_image_pushed(event, workspace(gh))
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert gh.count("pulls.merge") == 1
    assert gh.files_at(ENV_REPO, "main")["envs/dev/values.yaml"] == values("1.3.0")


async def test_frozen_environment_blocks_automerge(gh: FakeGitHub) -> None:
    freeze = (
        "      dev:\n        use: automerge\n"
        "        freeze: [{days: [mon], from: '00:00', to: '23:59'}]\n"
    )
    config = DIRECTORY_CONFIG.replace(
        '    files: ["values.yaml"]\n', '    files: ["values.yaml"]\n    policy:\n' + freeze
    )
    directory_repo(gh, config=config)  # the fake's clock is a Monday
    event = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    await handle_image_pushed(event, workspace(gh))
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    ((_, run),) = gh.checks
    assert run.conclusion == "action_required" and "frozen" in run.title
    assert gh.count("pulls.merge") == 0


AUTOMERGE = DIRECTORY_CONFIG.replace(
    '    files: ["values.yaml"]\n',
    '    files: ["values.yaml"]\n    policy:\n      dev: automerge\n',
)


async def automerge_pr(gh: FakeGitHub) -> None:
    directory_repo(gh, config=AUTOMERGE)
    event = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    await handle_image_pushed(event, workspace(gh))


def refusal_comments(gh: FakeGitHub) -> list[str]:
    found = [extract(body) for body in review_comments(gh, 1)]
    return [m.reason for m in found if m is not None and m.kind == "merge-refused"]


async def test_automerge_waits_while_github_computes_mergeability(gh: FakeGitHub) -> None:
    """``mergeable`` is null right after an open or update: the job waits, merging nothing."""
    await automerge_pr(gh)
    gh.mergeable[(ENV_REPO, 1)] = None
    with pytest.raises(RetryLater) as waiting:
        await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert waiting.value.after == MERGE_RETRY and gh.count("pulls.merge") == 0
    del gh.mergeable[(ENV_REPO, 1)]
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert gh.files_at(ENV_REPO, "main")["envs/dev/values.yaml"] == values("1.3.0")


async def test_automerge_retries_a_base_branch_modified_405(gh: FakeGitHub) -> None:
    await automerge_pr(gh)
    message = "Base branch was modified. Review and try the merge again."
    gh.merge_refusals.append(MergeResult(False, "base_modified", message))
    with pytest.raises(RetryLater, match="Base branch was modified"):
        await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert refusal_comments(gh) == []
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert gh.pulls_of(ENV_REPO)[0].merged


@pytest.mark.parametrize(
    ("allowed", "method"),
    [
        (frozenset({"merge", "squash", "rebase"}), "squash"),
        (frozenset({"merge", "rebase"}), "merge"),
        (frozenset({"rebase"}), "rebase"),
    ],
)
async def test_automerge_uses_a_method_the_repository_allows(
    gh: FakeGitHub, allowed: frozenset[MergeMethod], method: str
) -> None:
    """A repository that forbids squash merges answers 405 "Squash merges are not allowed on
    this repository."; the bot reads ``allow_*_merge`` and picks an allowed method."""
    await automerge_pr(gh)
    gh.allowed_methods[ENV_REPO] = allowed
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert [c[3] for c in gh.calls if c[0] == "pulls.merge"] == [method]
    assert gh.pulls_of(ENV_REPO)[0].merged


async def test_automerge_says_once_per_head_why_it_cannot_merge(gh: FakeGitHub) -> None:
    await automerge_pr(gh)
    refused = MergeResult(False, "not_mergeable", "At least 1 approving review is required")
    gh.merge_refusals += [refused, refused]
    for _ in range(2):  # a redelivery, a recheck: the same verdict, one comment
        await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert refusal_comments(gh) == [
        "GitHub refused a squash merge: At least 1 approving review is required"
    ]
    gh.allowed_methods[ENV_REPO] = frozenset()
    await handle_pull_changed(changed(1, "promotion/api/dev"), workspace(gh))
    assert refusal_comments(gh) == ["the repository allows no merge method"]  # edited
    gh.push(ENV_REPO, "promotion/api/dev", {"README.md": "new head\n"})
    gh.mergeable[(ENV_REPO, 1)] = False
    await handle_pull_changed(changed(1, "promotion/api/dev", "synchronize"), workspace(gh))
    assert refusal_comments(gh) == [
        "the repository allows no merge method",
        "it conflicts with its base branch",
    ]
    assert not gh.pulls_of(ENV_REPO)[0].merged
