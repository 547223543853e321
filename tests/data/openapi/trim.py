"""Trim GitHub's REST OpenAPI description down to the operations the bot and its sandbox use.

Usage: python tests/data/openapi/trim.py /work/shared/corpus/openapi/api.github.com.json

Writes `github-rest.json` (the kept operations, their parameters and responses, and the
transitive closure of the `components` they reference; `examples` dropped) and a few response
examples into `examples/` next to this script. The output is deterministic, so re-running it on
the same description gives the same bytes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "github-rest.json"
EXAMPLES_DIR = HERE / "examples"

REPO = "/repos/{owner}/{repo}"
ORG_PACKAGE = "/orgs/{org}/packages/{package_type}/{package_name}"
USER_PACKAGE = "/users/{username}/packages/{package_type}/{package_name}"

# (method, GitHub path template): the one list of operations the trimmed description keeps.
OPERATIONS: tuple[tuple[str, str], ...] = (
    # apps and installations
    ("GET", "/app"),
    ("GET", "/app/installations"),
    ("GET", "/app/installations/{installation_id}"),
    ("POST", "/app/installations/{installation_id}/access_tokens"),
    ("GET", f"{REPO}/installation"),
    ("GET", "/installation/repositories"),
    ("GET", "/app/hook/deliveries"),
    ("GET", "/app/hook/deliveries/{delivery_id}"),
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts"),
    ("POST", "/app-manifests/{code}/conversions"),
    # repository and contents
    ("GET", REPO),
    ("GET", f"{REPO}/contents/{{path}}"),
    ("PUT", f"{REPO}/contents/{{path}}"),
    # git data
    ("GET", f"{REPO}/git/ref/{{ref}}"),
    ("GET", f"{REPO}/git/matching-refs/{{ref}}"),
    ("POST", f"{REPO}/git/refs"),
    ("PATCH", f"{REPO}/git/refs/{{ref}}"),
    ("DELETE", f"{REPO}/git/refs/{{ref}}"),
    ("GET", f"{REPO}/git/trees/{{tree_sha}}"),
    ("POST", f"{REPO}/git/trees"),
    ("GET", f"{REPO}/git/blobs/{{file_sha}}"),
    ("POST", f"{REPO}/git/blobs"),
    ("GET", f"{REPO}/git/commits/{{commit_sha}}"),
    ("POST", f"{REPO}/git/commits"),
    # branches, compare, commits, tags, releases
    ("GET", f"{REPO}/branches"),
    ("GET", f"{REPO}/branches/{{branch}}"),
    ("GET", f"{REPO}/compare/{{basehead}}"),
    ("GET", f"{REPO}/commits"),
    ("GET", f"{REPO}/commits/{{ref}}"),
    ("GET", f"{REPO}/tags"),
    ("GET", f"{REPO}/releases"),
    ("POST", f"{REPO}/releases"),
    ("GET", f"{REPO}/releases/latest"),
    ("GET", f"{REPO}/releases/tags/{{tag}}"),
    # pull requests
    ("POST", f"{REPO}/pulls"),
    ("GET", f"{REPO}/pulls"),
    ("GET", f"{REPO}/pulls/{{pull_number}}"),
    ("PATCH", f"{REPO}/pulls/{{pull_number}}"),
    ("GET", f"{REPO}/pulls/{{pull_number}}/files"),
    ("PUT", f"{REPO}/pulls/{{pull_number}}/merge"),
    # issues, comments, labels, reactions
    ("POST", f"{REPO}/issues"),
    ("GET", f"{REPO}/issues"),
    ("GET", f"{REPO}/issues/{{issue_number}}"),
    ("PATCH", f"{REPO}/issues/{{issue_number}}"),
    ("POST", f"{REPO}/issues/{{issue_number}}/comments"),
    ("GET", f"{REPO}/issues/{{issue_number}}/comments"),
    ("PATCH", f"{REPO}/issues/comments/{{comment_id}}"),
    ("DELETE", f"{REPO}/issues/comments/{{comment_id}}"),
    ("GET", f"{REPO}/labels"),
    ("POST", f"{REPO}/labels"),
    ("POST", f"{REPO}/issues/{{issue_number}}/labels"),
    ("POST", f"{REPO}/issues/comments/{{comment_id}}/reactions"),
    ("GET", f"{REPO}/issues/comments/{{comment_id}}/reactions"),
    # checks
    ("POST", f"{REPO}/check-runs"),
    ("PATCH", f"{REPO}/check-runs/{{check_run_id}}"),
    ("GET", f"{REPO}/check-runs/{{check_run_id}}"),
    ("GET", f"{REPO}/commits/{{ref}}/check-runs"),
    # permissions
    ("GET", f"{REPO}/collaborators/{{username}}/permission"),
    ("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
    # container packages, organisation and user owned
    ("GET", "/orgs/{org}/packages"),
    ("GET", ORG_PACKAGE),
    ("GET", f"{ORG_PACKAGE}/versions"),
    ("GET", f"{ORG_PACKAGE}/versions/{{package_version_id}}"),
    ("GET", "/users/{username}/packages"),
    ("GET", USER_PACKAGE),
    ("GET", f"{USER_PACKAGE}/versions"),
    ("GET", f"{USER_PACKAGE}/versions/{{package_version_id}}"),
    # rate limit and users
    ("GET", "/rate_limit"),
    ("GET", "/users/{username}"),
    ("GET", "/user"),
)

# (method, path template, status, example name): response examples copied for validator tests.
EXAMPLES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/app", "200", "default"),
    ("POST", "/app/installations/{installation_id}/access_tokens", "201", "default"),
    ("GET", f"{REPO}/contents/{{path}}", "200", "response-if-content-is-a-file"),
    ("GET", f"{REPO}/git/ref/{{ref}}", "200", "default"),
    ("POST", f"{REPO}/git/trees", "201", "default"),
    ("GET", f"{REPO}/compare/{{basehead}}", "200", "default"),
    ("POST", f"{REPO}/issues/{{issue_number}}/comments", "201", "default"),
    ("GET", f"{REPO}/releases/latest", "200", "default"),
    ("POST", f"{REPO}/check-runs", "201", "example-of-in-progress-conclusion"),
    ("GET", f"{ORG_PACKAGE}/versions", "200", "default"),
    ("GET", "/rate_limit", "200", "default"),
)

# Provable errors in GitHub's description, each shown by GitHub's own example failing it or by
# the schema accepting no body at all: (JSON pointer in the output, keyword, new keyword, reason).
ERRATA: tuple[tuple[str, str, str, str], ...] = (
    (
        "/paths/~1app~1installations/get/responses/200/content/application~1json/schema/items"
        "/properties/account",
        "allOf",
        "anyOf",
        "apps/list-installations requires account to be both a Simple User and an Enterprise; "
        "the operation's own example (a user) fails that, and apps/get-installation says anyOf",
    ),
    (
        "/paths/~1repos~1{owner}~1{repo}~1contents~1{path}/put/responses/409/content"
        "/application~1json/schema",
        "oneOf",
        "anyOf",
        "repos/create-or-update-file-contents 409 is oneOf basic-error and "
        "repository-rule-violation-error; neither requires a property, so every error body "
        "matches both and oneOf accepts none",
    ),
    (
        "/paths/~1repos~1{owner}~1{repo}~1git~1blobs/post/responses/422/content"
        "/application~1json/schema",
        "oneOf",
        "anyOf",
        "git/create-blob 422 is oneOf validation-error and repository-rule-violation-error; the "
        "second requires nothing, so every validation error matches both and oneOf accepts none",
    ),
)

# Operation keys kept; descriptions, docs links and vendor extensions are not needed to validate.
OPERATION_KEYS = ("operationId", "summary", "parameters", "responses")


def iter_refs(node: Any) -> Iterator[str]:
    """Yield every `$ref` string inside a JSON value."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from iter_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_refs(value)


def drop_examples(node: Any) -> Any:
    """Return a copy of a media type, response or schema tree without `examples`."""
    if isinstance(node, dict):
        return {key: drop_examples(value) for key, value in node.items() if key != "examples"}
    if isinstance(node, list):
        return [drop_examples(value) for value in node]
    return node


def component_key(ref: str) -> tuple[str, str]:
    """Split `#/components/<kind>/<name>` into (kind, name)."""
    parts = ref.split("/")
    if len(parts) != 4 or parts[:2] != ["#", "components"]:
        raise ValueError(f"unsupported $ref shape ref={ref}")
    return parts[2], parts[3]


def trim_operation(operation: dict[str, Any]) -> dict[str, Any]:
    return {key: drop_examples(operation[key]) for key in OPERATION_KEYS if key in operation}


def select_paths(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for method, template in OPERATIONS:
        operation = spec["paths"].get(template, {}).get(method.lower())
        if operation is None:
            raise KeyError(f"operation missing from description method={method} path={template}")
        paths.setdefault(template, {})[method.lower()] = trim_operation(operation)
    return paths


def component_closure(spec: dict[str, Any], roots: Any) -> dict[str, dict[str, Any]]:
    """Collect every component reachable by `$ref` from `roots`, examples excluded."""
    kept: dict[str, dict[str, Any]] = {}
    pending = list(iter_refs(roots))
    while pending:
        kind, name = component_key(pending.pop())
        if kind == "examples" or name in kept.get(kind, {}):
            continue
        component = drop_examples(spec["components"][kind][name])
        kept.setdefault(kind, {})[name] = component
        pending.extend(iter_refs(component))
    return {kind: dict(sorted(items.items())) for kind, items in sorted(kept.items())}


def pointer_target(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.split("/")[1:]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def apply_errata(trimmed: dict[str, Any]) -> None:
    for pointer, old_key, new_key, _reason in ERRATA:
        node = pointer_target(trimmed, pointer)
        if old_key not in node:
            raise KeyError(f"erratum no longer applies pointer={pointer} key={old_key}")
        node[new_key] = node.pop(old_key)


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    paths = select_paths(spec)
    trimmed = {
        "openapi": spec["openapi"],
        "info": {
            **spec["info"],
            "x-trimmed": "operations listed in tests/data/openapi/trim.py only",
            "x-errata": [reason for *_, reason in ERRATA],
        },
        "servers": spec["servers"],
        "paths": paths,
        "components": component_closure(spec, paths),
    }
    apply_errata(trimmed)
    return trimmed


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    kind, name = component_key(ref)
    resolved: dict[str, Any] = spec["components"][kind][name]
    return resolved


def extract_example(
    spec: dict[str, Any], method: str, template: str, status: str, name: str
) -> dict[str, Any]:
    response = resolve(spec, spec["paths"][template][method.lower()]["responses"][status])
    example = resolve(spec, response["content"]["application/json"]["examples"][name])
    return {
        "operation": f"{method} {template}",
        "status": int(status),
        "example": name,
        "value": example["value"],
    }


def example_filename(method: str, template: str, status: str, name: str) -> str:
    slug = template.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    return f"{method.lower()}_{slug}.{status}.{name}.json"


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    write_json(OUTPUT, trim(spec))
    EXAMPLES_DIR.mkdir(exist_ok=True)
    for method, template, status, name in EXAMPLES:
        example = extract_example(spec, method, template, status, name)
        write_json(EXAMPLES_DIR / example_filename(method, template, status, name), example)
    print(f"wrote {OUTPUT} operations={len(OPERATIONS)} examples={len(EXAMPLES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
