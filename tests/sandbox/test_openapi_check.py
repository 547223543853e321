"""The OpenAPI response validator, on GitHub's own examples and on deliberately broken bodies."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from githubkit import GitHub
from githubkit.exception import RequestError

from tests.sandbox import openapi_check
from tests.sandbox.openapi_check import (
    ValidatingTransport,
    claimed_operations,
    match_operation,
    openapi_response_hook,
    to_json_schema,
    unvalidated,
    validate_response,
)

OPENAPI_DIR = Path(__file__).resolve().parents[1] / "data" / "openapi"
EXAMPLE_FILES = sorted((OPENAPI_DIR / "examples").glob("*.json"))
REPO = "/repos/{owner}/{repo}"
TEAM_MEMBERSHIP = "/orgs/acme/teams/release/memberships/alice"

# Concrete values for path parameters; the slashed ones prove multi-segment matching.
SAMPLE_PARAMS = {
    "path": "deploy/prod/values.yaml",
    "ref": "heads/promote/app-1.2.3",
    "basehead": "main...promote/app-1.2.3",
    "branch": "promote/app",
    "tag": "v1.2.3",
}


def load_trim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("openapi_trim", OPENAPI_DIR / "trim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def concrete_path(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "42"), template)


def load_example(name: str) -> dict[str, Any]:
    example: dict[str, Any] = json.loads((OPENAPI_DIR / "examples" / name).read_text("utf-8"))
    return example


def example_request(example: dict[str, Any]) -> tuple[str, str]:
    method, template = example["operation"].split(" ", 1)
    return method, concrete_path(template)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_github_examples_validate(path: Path) -> None:
    example = load_example(path.name)
    method, url_path = example_request(example)
    validate_response(method, url_path, example["status"], example["value"])


def drop(key: str) -> Any:
    return lambda body: body.pop(key)


def set_at(value: Any, *keys: str) -> Any:
    def mutate(body: Any) -> None:
        for key in keys[:-1]:
            body = body[key]
        body[keys[-1]] = value

    return mutate


CHECK_RUN = "post_repos_owner_repo_check-runs.201.example-of-in-progress-conclusion.json"
GIT_REF = "get_repos_owner_repo_git_ref_ref.200.default.json"
CONTENT_FILE = "get_repos_owner_repo_contents_path.200.response-if-content-is-a-file.json"
COMPARE = "get_repos_owner_repo_compare_basehead.200.default.json"
RATE_LIMIT = "get_rate_limit.200.default.json"
TOKEN = "post_app_installations_installation_id_access_tokens.201.default.json"

BROKEN = [
    ("missing-required", CHECK_RUN, drop("id"), "at=<root>: 'id' is a required property"),
    ("enum-violation", CHECK_RUN, set_at("running", "status"), "at=status: 'running' is not one"),
    ("nullable-enum-bad", CHECK_RUN, set_at("won", "conclusion"), "at=conclusion: 'won'"),
    ("bad-date-time", CHECK_RUN, set_at("yesterday", "started_at"), "is not a 'date-time'"),
    ("wrong-type", GIT_REF, set_at(5, "object", "sha"), "at=object/sha: 5 is not of type"),
    ("null-not-nullable", GIT_REF, set_at(None, "ref"), "at=ref: None is not of type"),
    ("one-of-none", CONTENT_FILE, drop("content"), "at=<root>:"),
    ("nested-required", RATE_LIMIT, drop("resources"), "'resources' is a required property"),
    ("compare-status", COMPARE, set_at("sideways", "status"), "at=status: 'sideways'"),
    ("permissions-enum", TOKEN, set_at("admin", "permissions", "contents"), "permissions/contents"),
]


@pytest.mark.parametrize(
    ("example_name", "mutate", "message"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_bodies_fail_with_readable_message(
    example_name: str, mutate: Any, message: str
) -> None:
    example = load_example(example_name)
    body = copy.deepcopy(example["value"])
    mutate(body)
    method, url_path = example_request(example)
    with pytest.raises(AssertionError) as failure:
        validate_response(method, url_path, example["status"], body)
    assert message in str(failure.value)
    assert f"method={method} path={url_path}" in str(failure.value)


ACCEPTED = [
    ("nullable-null", CHECK_RUN, set_at(None, "completed_at")),
    ("nullable-enum-null", CHECK_RUN, set_at(None, "conclusion")),
    ("extra-property", GIT_REF, set_at("anything", "x-sandbox")),
    ("offset-date-time", CHECK_RUN, set_at("2026-11-22T01:02:03.5+01:00", "started_at")),
]


@pytest.mark.parametrize(
    ("example_name", "mutate"), [case[1:] for case in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_openapi_leniencies_are_kept(example_name: str, mutate: Any) -> None:
    example = load_example(example_name)
    body = copy.deepcopy(example["value"])
    mutate(body)
    method, url_path = example_request(example)
    validate_response(method, url_path, example["status"], body)


@pytest.mark.parametrize(
    ("method", "url_path", "template"),
    [
        ("GET", "/repos/o/r/releases/latest", f"{REPO}/releases/latest"),
        ("GET", "/repos/o/r/releases/tags/v1.2.3", f"{REPO}/releases/tags/{{tag}}"),
        ("GET", "/repos/o/r/commits/heads/main/check-runs", f"{REPO}/commits/{{ref}}/check-runs"),
        ("GET", "/repos/o/r/commits/feature/x", f"{REPO}/commits/{{ref}}"),
        ("GET", "/repos/o/r/git/ref/heads/promote/a", f"{REPO}/git/ref/{{ref}}"),
        ("PATCH", "/repos/o/r/git/refs/heads/promote/a", f"{REPO}/git/refs/{{ref}}"),
        ("POST", "/repos/o/r/git/refs", f"{REPO}/git/refs"),
        ("PUT", "/repos/o/r/contents/a/b.yaml", f"{REPO}/contents/{{path}}"),
        ("GET", "/repos/o/r/compare/main...feat/x", f"{REPO}/compare/{{basehead}}"),
        ("GET", "/repos/o/r/issues/7/comments", f"{REPO}/issues/{{issue_number}}/comments"),
        ("PATCH", "/repos/o/r/issues/comments/9", f"{REPO}/issues/comments/{{comment_id}}"),
        ("GET", "/repos/o/r", REPO),
        ("GET", "/user", "/user"),
    ],
)
def test_match_operation(method: str, url_path: str, template: str) -> None:
    assert match_operation(method, url_path).template == template


@pytest.mark.parametrize(
    ("method", "url_path", "status", "body", "message"),
    [
        ("GET", "/repos/o/r/hooks", 200, [], "no operation in the trimmed OpenAPI description"),
        ("DELETE", "/repos/o/r/pulls/1", 204, None, "no operation"),
        ("GET", "/repos/o/r/tags", 418, [], "status not documented"),
        ("DELETE", "/repos/o/r/git/refs/heads/x", 204, {}, "body the description does not"),
        ("GET", "/repos/o/r/tags", 200, None, "no JSON body but one is documented"),
        ("GET", TEAM_MEMBERSHIP, 404, {"message": 404}, "at=message: 404 is not of type"),
    ],
)
def test_contract_violations_outside_bodies(
    method: str, url_path: str, status: int, body: Any, message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        validate_response(method, url_path, status, body)


def test_empty_body_on_no_content_response_is_valid() -> None:
    validate_response("DELETE", "/repos/o/r/git/refs/heads/x", 204, None)


def test_error_documented_without_content_is_held_to_basic_error() -> None:
    # GitHub documents this 404 by a description only but answers its usual error body.
    validate_response("GET", TEAM_MEMBERSHIP, 404, {"message": "Not Found", "status": "404"})


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "string", "enum": ["a"], "nullable": True},
            {"type": ["string", "null"], "enum": ["a", None]},
        ),
        (
            {"nullable": True, "allOf": [{"$ref": "#/x"}]},
            {"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/x"}]}]},
        ),
        ({"nullable": True, "description": "any"}, {"description": "any"}),
        ({"$ref": "#/x", "nullable": True}, {"$ref": "#/x"}),
        (
            {"type": "object", "properties": {"nullable": {"type": "boolean", "nullable": True}}},
            {"type": "object", "properties": {"nullable": {"type": ["boolean", "null"]}}},
        ),
        (
            {"type": "array", "items": {"type": "integer", "nullable": True}},
            {"type": "array", "items": {"type": ["integer", "null"]}},
        ),
        ({"type": "string", "nullable": False}, {"type": "string", "nullable": False}),
    ],
)
def test_to_json_schema(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert to_json_schema(schema) == expected


def example_transport(broken: bool) -> httpx.MockTransport:
    body = copy.deepcopy(load_example(GIT_REF)["value"])
    if broken:
        body["object"] = "not-an-object"
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


async def test_async_hook_validates_and_records() -> None:
    hook = openapi_response_hook()
    gh = GitHub(async_transport=example_transport(broken=False), **hook.event_hooks())
    response = await gh.rest.git.async_get_ref("o", "r", "heads/main")
    assert response.parsed_data.ref == "refs/heads/featureA"
    assert hook.exercised == {("GET", f"{REPO}/git/ref/{{ref}}"): {200}}
    assert hook.succeeded() == {("GET", f"{REPO}/git/ref/{{ref}}")}


def test_sync_hook_fails_the_call_and_records_the_message() -> None:
    hook = openapi_response_hook()
    gh = GitHub(transport=example_transport(broken=True), **hook.event_hooks())
    with pytest.raises(RequestError) as failure:
        gh.rest.git.get_ref("o", "r", "heads/main")
    assert isinstance(failure.value.__cause__, AssertionError)
    message = "at=object: 'not-an-object' is not of type"
    assert message in str(failure.value)
    assert len(hook.failures) == 1
    with pytest.raises(AssertionError, match=message):
        hook.assert_clean()


def test_hook_strips_base_path() -> None:
    hook = openapi_response_hook(base_path="/api/v3/")
    gh = GitHub(
        base_url="https://ghes.example/api/v3/",
        transport=example_transport(broken=False),
        **hook.event_hooks(),
    )
    gh.rest.git.get_ref("o", "r", "heads/main")
    assert hook.succeeded() == {("GET", f"{REPO}/git/ref/{{ref}}")}


def test_trimmed_spec_holds_exactly_the_listed_operations() -> None:
    trim = load_trim()
    assert openapi_check.operation_keys() == frozenset(trim.OPERATIONS)
    assert len(trim.OPERATIONS) == len(set(trim.OPERATIONS))


def test_trimmed_spec_is_closed_and_has_no_examples() -> None:
    spec = openapi_check.load_spec()
    for ref in load_trim().iter_refs(spec):
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in spec["components"][kind], ref
    assert '"examples"' not in (OPENAPI_DIR / "github-rest.json").read_text("utf-8")


def test_trim_keeps_transitive_components_only() -> None:
    trim = load_trim()
    tiny: dict[str, Any] = {
        "components": {
            "schemas": {
                "a": {"properties": {"b": {"$ref": "#/components/schemas/b"}}},
                "b": {"type": "string", "examples": ["dropped"]},
                "unused": {"type": "integer"},
            },
            "examples": {"ex": {"value": 1}},
        }
    }
    root = {"schema": {"$ref": "#/components/schemas/a"}, "examples": {"$ref": "#/x/y/z"}}
    closure = trim.component_closure(tiny, trim.drop_examples(root))
    assert closure == {
        "schemas": {"a": tiny["components"]["schemas"]["a"], "b": {"type": "string"}}
    }


async def test_validating_transport_checks_and_unwraps() -> None:
    hook = openapi_response_hook()
    inner = example_transport(broken=False)
    transport = ValidatingTransport(inner, hook)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        await client.get("/repos/o/r/git/ref/heads/main")
        with pytest.raises(AssertionError, match="no operation"):
            await client.get("/settings/apps/new")
    assert hook.succeeded() == {("GET", f"{REPO}/git/ref/{{ref}}")}
    assert unvalidated(transport) is inner
    assert unvalidated(inner) is inner


def test_claimed_operations_match_server_templates_by_shape() -> None:
    server_paths: dict[str, dict[str, Any]] = {
        "/orgs/{owner}/packages/container/{name}": {"get": {}},
        "/repos/{owner}/{repo}/commits/{commit_sha}": {"get": {}},
        "/repos/{owner}/{repo}/issues/comments/{comment_id}": {"get": {}},
        "/_sandbox/apps": {"post": {}},
    }
    assert claimed_operations(server_paths) == {
        ("GET", "/orgs/{org}/packages/{package_type}/{package_name}"),
        ("GET", f"{REPO}/commits/{{ref}}"),
    }
