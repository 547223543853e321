"""Translation of GitHub payloads into core events, over real payloads and derived variants."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from githubkit.webhooks import parse_obj
from pydantic import ValidationError

from bot.core.inputs.events import (
    CheckActionRequested,
    CommentCreated,
    ConfigPushed,
    ImagePushed,
    InstallationChanged,
    IssueEdited,
    PullChanged,
    PullClosed,
    ReleasePublished,
    TagCreated,
)
from bot.entrypoints.translate import (
    TRANSLATORS,
    PayloadShapeError,
    githubkit_model,
    shape_problems,
    translate,
)
from tests.entrypoints.payloads import (
    DATA,
    check_run_requested_action,
    config_push,
    drift_box_ticked,
    event_name,
    load,
    tagged_ghcr_push,
)

# file -> (event type, fields the event must carry); None when the delivery means nothing to us.
REAL_PAYLOADS: list[tuple[str, type | None, dict[str, Any]]] = [
    (
        "api.github.com/create/payload.json",
        TagCreated,
        {"repo": "Codertocat/Hello-World", "tag": "simple-tag", "installation_id": None},
    ),
    (
        "api.github.com/create/with-installation.payload.json",
        TagCreated,
        {"tag": "simple-tag", "installation_id": 1},
    ),
    (
        "api.github.com/installation/created.payload.json",
        InstallationChanged,
        {"action": "created", "account": "Codertocat"},
    ),
    (
        "api.github.com/issue_comment/created.with-installation.payload.json",
        CommentCreated,
        {"is_pull": False, "author": "Codertocat", "author_is_bot": False},
    ),
    (
        "extra/issue_comment/created.on-pull-request.atlantis.json",
        CommentCreated,
        {
            "repo": "runatlantis/atlantis-tests",
            "issue_number": 1,
            "is_pull": True,
            "author": "runatlantis",
            "body": "###comment body###",
        },
    ),
    ("api.github.com/package/published.docker.payload.json", None, {}),
    ("api.github.com/package/published.npm.payload.json", None, {}),
    ("api.github.com/registry_package/published.docker.payload.json", None, {}),
    ("api.github.com/ping/payload.json", None, {}),
    (
        "api.github.com/pull_request/closed.payload.json",
        PullClosed,
        {
            "repo": "Codertocat/Hello-World",
            "number": 2,
            "merged": False,
            "head_ref": "changes",
            "base_ref": "master",
        },
    ),
    (
        "extra/pull_request/closed.merged.create-issue-branch.json",
        PullClosed,
        {"merged": True, "head_ref": "issue-111-robvanderleek-patch-1", "base_ref": "main"},
    ),
    ("api.github.com/pull_request/labeled.payload.json", None, {}),
    (
        "api.github.com/pull_request/opened.payload.json",
        PullChanged,
        {"action": "opened", "number": 2, "author": "Codertocat"},
    ),
    (
        "api.github.com/pull_request/opened.with-null-body.json",
        PullChanged,
        {"action": "opened", "body": ""},
    ),
    ("api.github.com/pull_request/reopened.payload.json", PullChanged, {"action": "reopened"}),
    (
        "api.github.com/pull_request/synchronize.payload.json",
        PullChanged,
        {"action": "synchronize", "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"},
    ),
    ("api.github.com/push/with-installation.payload.json", None, {}),
    ("api.github.com/push/with-new-branch.payload.json", None, {}),
    ("ghes-35/push/payload.json", TagCreated, {"tag": "simple-tag"}),
    ("api.github.com/release/created.payload.json", None, {}),
    (
        "api.github.com/release/prereleased.payload.json",
        ReleasePublished,
        {"tag": "0.0.1", "prerelease": True},
    ),
    (
        "api.github.com/release/published.payload.json",
        ReleasePublished,
        {"tag": "0.0.1", "prerelease": False, "action": "published"},
    ),
    ("api.github.com/release/released.json", ReleasePublished, {"action": "released"}),
]


@pytest.mark.parametrize(
    ("name", "kind", "fields"), REAL_PAYLOADS, ids=[c[0] for c in REAL_PAYLOADS]
)
def test_real_payloads(name: str, kind: type | None, fields: dict[str, Any]) -> None:
    payload = load(name)
    translation = translate(event_name(name), payload, "delivery-1")
    if kind is None:
        assert translation.events == ()
        return
    [event] = translation.events
    assert isinstance(event, kind)
    assert event.delivery_id == "delivery-1"
    assert {k: getattr(event, k) for k in fields} == fields
    # githubkit finds nothing wrong with the fields we read, whatever else it misses.
    assert shape_problems(event_name(name), payload, translation.fields_read) == []


def test_tagged_ghcr_push() -> None:
    [event] = translate("registry_package", tagged_ghcr_push(), "d").events
    assert event == ImagePushed(
        registry="ghcr.io",
        repository="codertocat/hello-world",
        tag="1.4.2",
        digest="sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b",
        source_repo="Codertocat/hello-world-npm",
        installation_id=5,
        delivery_id="d",
    )


def test_package_twin_and_platform_manifests_share_one_dedupe_key() -> None:
    payloads = [
        ("registry_package", tagged_ghcr_push()),
        ("package", tagged_ghcr_push(root="package")),
        ("registry_package", tagged_ghcr_push(version="sha256:" + "1" * 64)),
    ]
    keys = {
        translate(name, p, f"d{n}").events[0].dedupe_key for n, (name, p) in enumerate(payloads)
    }
    assert keys == {
        "image:ghcr.io/codertocat/hello-world:1.4.2@sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b"
    }


@pytest.mark.parametrize(
    ("package_url", "namespace", "expected"),
    [
        ("ghcr.io/Acme/Team/API:1.0", "acme", "acme/team/api"),
        ("ghcr.io/acme/api@sha256:00", "acme", "acme/api"),
        ("", "Acme", "acme/hello-world-npm"),
        ("", "Acme/Hello", "acme/hello"),
        ("docker.io/acme/api:1", "acme", "acme/hello-world-npm"),
    ],
)
def test_image_name(package_url: str, namespace: str, expected: str) -> None:
    payload = tagged_ghcr_push()
    payload["registry_package"]["namespace"] = namespace
    payload["registry_package"]["package_version"]["package_url"] = package_url
    [event] = translate("registry_package", payload, "d").events
    assert isinstance(event, ImagePushed) and event.repository == expected


def _with(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    result.update(changes)
    return result


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("push", config_push(), ConfigPushed),
        ("push", config_push(ref="refs/heads/feature"), None),
        ("push", config_push(deleted=True), None),
        ("push", _with(load("ghes-35/push/payload.json"), created=False), None),
        ("create", _with(load("api.github.com/create/payload.json"), ref_type="branch"), None),
        (
            "release",
            _with(load("api.github.com/release/published.payload.json"), action="deleted"),
            None,
        ),
        (
            "issue_comment",
            _with(
                load("extra/issue_comment/created.on-pull-request.atlantis.json"), action="edited"
            ),
            None,
        ),
        (
            "pull_request",
            _with(load("api.github.com/pull_request/opened.payload.json"), action="edited"),
            PullChanged,
        ),
        ("registry_package", _with(tagged_ghcr_push(), action="deleted"), None),
        (
            "installation_repositories",
            {
                "action": "added",
                "installation": {"id": 1, "account": {"login": "acme"}},
                "repositories_added": [{"full_name": "acme/env"}],
            },
            InstallationChanged,
        ),
        ("check_run", check_run_requested_action(), CheckActionRequested),
        ("check_run", {"action": "completed"}, None),
        ("issues", drift_box_ticked(), IssueEdited),
        ("issues", {**drift_box_ticked(), "changes": {"title": {"from": "T"}}}, None),
        ("issues", {**drift_box_ticked(), "action": "opened"}, None),
        ("workflow_run", {"action": "completed"}, None),
    ],
)
def test_rules(event: str, payload: dict[str, Any], expected: type | None) -> None:
    events = translate(event, payload, "d").events
    assert [type(e) for e in events] == ([expected] if expected else [])


def test_config_push_fields() -> None:
    [event] = translate("push", config_push(), "d").events
    assert isinstance(event, ConfigPushed)
    assert (event.repo, event.ref, event.after) == (
        "Codertocat/Hello-World",
        "refs/heads/master",
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    )


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        (
            "pull_request",
            {"action": "closed", "repository": {"full_name": "a/b"}},
            "missing field pull_request.number",
        ),
        (
            "pull_request",
            _with(
                load("api.github.com/pull_request/closed.payload.json"),
                number=1,
                pull_request={"number": "2"},
            ),
            "field pull_request.number has type str",
        ),
        ("create", {"ref_type": "tag", "ref": "v1"}, "missing field repository.full_name"),
        (
            "release",
            {
                "action": "published",
                "release": {"tag_name": "v1", "prerelease": True},
                "repository": {"full_name": 3},
            },
            "field repository.full_name has type int",
        ),
        (
            "issue_comment",
            {"action": "created", "issue": {"pull_request": {}, "number": True}},
            "missing field repository.full_name",
        ),
        # Probot's trimmed fixture: a comment with no author cannot be a command.
        (
            "issue_comment",
            load("extra/issue_comment/created.slash-command.create-issue-branch.json"),
            "missing field comment.user.login",
        ),
    ],
)
def test_wrong_shapes_say_which_field(event: str, payload: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadShapeError, match=message):
        translate(event, payload, "d")


def test_non_object_payload_means_nothing() -> None:
    assert translate("push", [], "d").events == ()  # type: ignore[arg-type]


def test_shape_problems_report_read_fields_only() -> None:
    payload = load("api.github.com/pull_request/synchronize.payload.json")
    payload["pull_request"]["number"] = "seven"
    payload["pull_request"]["labels"] = [{"name": "no other fields"}]
    problems = shape_problems("pull_request", payload, frozenset({("pull_request", "number")}))
    assert len(problems) == 1 and problems[0].startswith("pull_request.number:")


ALL_PAYLOADS = sorted(str(p.relative_to(DATA)) for p in DATA.rglob("*.json"))


@pytest.mark.parametrize("name", ALL_PAYLOADS)
def test_kept_model_judges_like_githubkit_parse_obj(name: str) -> None:
    """The model of the payload's action finds what githubkit's whole event finds, at the same
    places (the union's places start with the action)."""
    payload = load(name)
    event = event_name(name)
    action = payload.get("action")

    def verdict(validate: Callable[[], object], branch: object = None) -> str:
        try:
            validate()
        except ValidationError as err:
            places = [tuple(e["loc"]) for e in err.errors()]
            return f"invalid {sorted(str(p[1:] if p[:1] == (branch,) else p) for p in places)}"
        return "valid"

    model, whole = githubkit_model(event, action)
    assert verdict(lambda: model.validate_python(payload), action if whole else None) == verdict(
        lambda: parse_obj(event, payload), action
    )


@pytest.mark.parametrize(
    ("event", "action"),
    sorted(
        ((event, action) for event, (_, actions) in TRANSLATORS.items() for action in actions),
        key=str,
    ),
)
def test_every_handled_action_has_its_own_githubkit_model(event: str, action: str | None) -> None:
    model, whole = githubkit_model(event, action)
    assert not whole
    assert githubkit_model(event, action)[0] is model


def test_an_action_githubkit_has_no_model_of_is_judged_by_the_whole_event() -> None:
    _, whole = githubkit_model("pull_request", "no_such_action")
    assert whole
