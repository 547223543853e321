"""Validate HTTP responses against the trimmed GitHub REST OpenAPI description.

`validate_response` checks one response body; `openapi_response_hook` builds httpx event hooks
that validate every response a githubkit client receives and record which operations ran;
`ValidatingTransport` does the same for clients built elsewhere, and `run_contract` runs
contract scenarios on a sandbox world whose clients all go through it.
OpenAPI 3.0 schemas are converted to JSON Schema draft 7 (`nullable` becomes a `null` branch);
`format` is checked only for `date-time`, with a lenient RFC 3339 pattern.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "openapi" / "github-rest.json"
SPEC_URI = "urn:github-rest"
JSON_MEDIA_TYPE = "application/json"
BASIC_ERROR_POINTER = "/components/schemas/basic-error"

# Parameters GitHub documents as able to hold slashes (`heads/main`, `a/b.yaml`, `v1...v2`).
MULTI_SEGMENT_PARAMS = frozenset({"path", "ref", "basehead", "branch", "tag"})
COMBINATORS = ("allOf", "anyOf", "oneOf")
SUBSCHEMA_KEYS = ("items", "additionalProperties", "not")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

# Leaf errors reported when no anyOf/oneOf branch matches.
MAX_REPORTED = 4

OperationKey = tuple[str, str]


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_segments: int

    @property
    def key(self) -> OperationKey:
        return (self.method, self.template)


@functools.cache
def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        (r"(.+)" if part[1:-1] in MULTI_SEGMENT_PARAMS else r"([^/]+)")
        if part.startswith("{")
        else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


@functools.cache
def operations() -> tuple[Operation, ...]:
    """All operations, most literal first, so `/releases/latest` beats `/releases/{id}`."""
    found = [
        Operation(
            method=method.upper(),
            template=template,
            pattern=template_pattern(template),
            literal_segments=sum(
                1 for segment in template.split("/") if segment and "{" not in segment
            ),
        )
        for template, item in load_spec()["paths"].items()
        for method in item
    ]
    return tuple(sorted(found, key=lambda op: (-op.literal_segments, op.template, op.method)))


def operation_keys() -> frozenset[OperationKey]:
    return frozenset(op.key for op in operations())


def match_operation(method: str, url_path: str) -> Operation:
    for op in operations():
        if op.method == method.upper() and op.pattern.match(url_path):
            return op
    raise AssertionError(
        f"no operation in the trimmed OpenAPI description matches method={method.upper()} "
        f"path={url_path}"
    )


def nullable_to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Turn OpenAPI 3.0 `nullable: true` into a JSON Schema that also accepts null."""
    rest = {key: value for key, value in schema.items() if key != "nullable"}
    if "type" in rest and not any(key in rest for key in COMBINATORS):
        rest["type"] = [rest["type"], "null"]
        if "enum" in rest:
            rest["enum"] = [*rest["enum"], None]
        return rest
    if any(key in rest for key in (*COMBINATORS, "enum")):
        return {"anyOf": [{"type": "null"}, rest]}
    return rest


def to_json_schema(schema: Any) -> Any:
    """Convert an OpenAPI 3.0 schema object (recursively) to JSON Schema draft 7."""
    if not isinstance(schema, dict):
        return schema
    converted = dict(schema)
    for key in SUBSCHEMA_KEYS:
        if isinstance(converted.get(key), dict):
            converted[key] = to_json_schema(converted[key])
    for key in COMBINATORS:
        if key in converted:
            converted[key] = [to_json_schema(item) for item in converted[key]]
    if "properties" in converted:
        converted["properties"] = {
            name: to_json_schema(value) for name, value in converted["properties"].items()
        }
    if converted.get("nullable") is True:
        return nullable_to_json_schema(converted)
    return converted


def convert_responses(responses: dict[str, Any]) -> dict[str, Any]:
    return {
        status: {
            **response,
            "content": {
                media: {**body, "schema": to_json_schema(body.get("schema", {}))}
                for media, body in response.get("content", {}).items()
            },
        }
        for status, response in responses.items()
    }


@functools.cache
def converted_spec() -> dict[str, Any]:
    """The trimmed description with every response schema in JSON Schema draft 7 form."""
    spec = load_spec()
    components = dict(spec["components"])
    components["schemas"] = {
        name: to_json_schema(schema) for name, schema in spec["components"]["schemas"].items()
    }
    components["responses"] = convert_responses(spec["components"].get("responses", {}))
    paths = {
        template: {
            method: {**op, "responses": convert_responses(op["responses"])}
            for method, op in item.items()
        }
        for template, item in spec["paths"].items()
    }
    return {**spec, "components": components, "paths": paths}


@functools.cache
def registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(converted_spec(), default_specification=DRAFT7)
    loaded: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return loaded


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def is_date_time(instance: object) -> bool:
        return not isinstance(instance, str) or bool(DATE_TIME.match(instance))

    return checker


def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def response_object(op: Operation, status: int) -> tuple[str, dict[str, Any]]:
    """Return the JSON pointer and body of the documented response for `status`."""
    responses = converted_spec()["paths"][op.template][op.method.lower()]["responses"]
    pointer = f"/paths/{pointer_escape(op.template)}/{op.method.lower()}/responses/{status}"
    response: dict[str, Any] = responses[str(status)]
    ref = response.get("$ref")
    if isinstance(ref, str):
        pointer = ref.removeprefix("#")
        response = converted_spec()["components"]["responses"][ref.rsplit("/", 1)[1]]
    return pointer, response


@functools.cache
def body_validator(method: str, template: str, status: int) -> Draft7Validator | None:
    """The validator for one documented response, or None when it documents no JSON body."""
    op = next(op for op in operations() if op.key == (method, template))
    pointer, response = response_object(op, status)
    if JSON_MEDIA_TYPE in response.get("content", {}):
        schema_pointer = f"{pointer}/content/{pointer_escape(JSON_MEDIA_TYPE)}/schema"
    elif status >= 400:
        # Some errors are documented by a description only, yet GitHub always answers its
        # generic error body; hold undocumented error bodies to that shape.
        schema_pointer = BASIC_ERROR_POINTER
    else:
        return None
    root = {"$ref": f"{SPEC_URI}#{schema_pointer}"}
    return Draft7Validator(root, registry=registry(), format_checker=format_checker())


def leaf_errors(error: ValidationError) -> list[ValidationError]:
    """The innermost errors under an anyOf/oneOf failure, without the `null` branches."""
    if not error.context:
        return [error]
    leaves = [leaf for sub in error.context for leaf in leaf_errors(sub)]
    return [e for e in leaves if (e.validator, e.validator_value) != ("type", "null")] or [error]


def shorten(text: str, limit: int = 160) -> str:
    """Cut the middle: messages start with the instance and end with what was expected."""
    half = (limit - 5) // 2
    return text if len(text) <= limit else f"{text[:half]} ... {text[-half:]}"


def describe_error(method: str, url_path: str, status: int, error: ValidationError) -> str:
    problems = "; ".join(
        f"at={'/'.join(str(part) for part in leaf.absolute_path) or '<root>'}: "
        f"{shorten(leaf.message)}"
        for leaf in leaf_errors(error)[:MAX_REPORTED]
    )
    return (
        f"response does not match GitHub's OpenAPI schema method={method} path={url_path} "
        f"status={status} {problems}"
    )


def documented_statuses(op: Operation) -> list[str]:
    return sorted(load_spec()["paths"][op.template][op.method.lower()]["responses"])


def validate_response(method: str, url_path: str, status: int, body: Any) -> None:
    """Assert that `body` (parsed JSON, or None for no body) is a documented response."""
    op = match_operation(method, url_path)
    if str(status) not in documented_statuses(op):
        said = body.get("message") if isinstance(body, dict) else None
        raise AssertionError(
            f"status not documented method={op.method} path={url_path} template={op.template} "
            f"status={status} documented={documented_statuses(op)} message={said!r}"
        )
    validator = body_validator(op.method, op.template, status)
    if validator is None:
        if body is not None:
            raise AssertionError(
                f"response has a body the description does not document method={op.method} "
                f"path={url_path} status={status}"
            )
        return
    if body is None:
        raise AssertionError(
            f"response has no JSON body but one is documented method={op.method} "
            f"path={url_path} status={status}"
        )
    error = best_match(validator.iter_errors(body))
    if error is not None:
        raise AssertionError(describe_error(op.method, url_path, status, error))


def response_body(request: httpx.Request, response: httpx.Response) -> Any:
    """Parse a read response: None when empty, JSON when JSON, else fail."""
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        raise AssertionError(
            f"response is not JSON method={request.method} path={request.url.path} "
            f"content_type={content_type}"
        )
    return response.json()


@dataclass
class OpenApiResponseHook:
    """httpx response hooks that validate bodies and record (method, template) -> statuses.

    githubkit wraps any exception raised inside httpx into `RequestError`, so the validator's
    AssertionError reaches the test as that error's `__cause__`; `failures` keeps every message
    too, so a test that catches errors cannot hide a contract violation (`assert_clean`).
    """

    base_path: str = ""
    exercised: dict[OperationKey, set[int]] = field(default_factory=lambda: defaultdict(set))
    failures: list[str] = field(default_factory=list)

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        """Validate one read response to `request` and record its operation and status."""
        url_path = request.url.path.removeprefix(self.base_path.rstrip("/")) or "/"
        try:
            op = match_operation(request.method, url_path)
            self.exercised[op.key].add(response.status_code)
            body = response_body(request, response)
            validate_response(request.method, url_path, response.status_code, body)
        except AssertionError as err:
            self.failures.append(str(err))
            raise

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.check(response.request, response)

    async def async_hook(self, response: httpx.Response) -> None:
        await response.aread()
        self.check(response.request, response)

    def assert_clean(self) -> None:
        """Fail with every recorded contract violation, one per line."""
        if self.failures:
            raise AssertionError("\n".join(self.failures))

    def succeeded(self) -> frozenset[OperationKey]:
        """Operations that answered at least once with a 2xx status."""
        return frozenset(
            key for key, statuses in self.exercised.items() if any(200 <= s < 300 for s in statuses)
        )

    def event_hooks(self) -> dict[str, Any]:
        """Keyword arguments for `githubkit.GitHub(...)`: sync and async response hooks."""
        return {
            "event_hooks": {"response": [self]},
            "async_event_hooks": {"response": [self.async_hook]},
        }


def openapi_response_hook(base_path: str = "") -> OpenApiResponseHook:
    """A fresh hook; `base_path` is stripped first (for example `/api/v3` on a GHES-like base)."""
    return OpenApiResponseHook(base_path=base_path)


class ValidatingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so clients built elsewhere (the sandbox fixtures) are validated too."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: OpenApiResponseHook) -> None:
        self.inner = inner
        self.hook = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.hook.check(request, response)
        return response

    async def aclose(self) -> None:
        """Leave `inner` open: one wrapped transport serves several clients in turn."""


def unvalidated(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport | None:
    """The transport under a ValidatingTransport, for browser pages outside the REST contract."""
    return transport.inner if isinstance(transport, ValidatingTransport) else transport


class HasTransport(Protocol):
    transport: httpx.AsyncBaseTransport | None


WorldT = TypeVar("WorldT", bound=HasTransport)


async def run_contract(
    world: WorldT, scenarios: Iterable[Callable[[WorldT], Awaitable[None]]]
) -> OpenApiResponseHook:
    """Run scenarios on a copy of `world` (a dataclass) whose clients are all validated."""
    hook = openapi_response_hook()
    inner = world.transport or httpx.AsyncHTTPTransport()
    checked = dataclasses.replace(world, transport=ValidatingTransport(inner, hook))  # type: ignore[type-var]
    try:
        for scenario in scenarios:
            await scenario(checked)
    finally:
        if world.transport is None:
            await inner.aclose()
    hook.assert_clean()
    return hook


def claimed_operations(server_paths: Mapping[str, Mapping[str, Any]]) -> frozenset[OperationKey]:
    """Operations of the trimmed description that a server's route table can answer.

    `server_paths` is the `paths` of the server's own OpenAPI document; its templates may name
    parameters differently or fix them (`/orgs/{owner}/packages/container/{name}`), so each is
    matched as a concrete path.
    """
    claimed = set()
    for template, item in server_paths.items():
        concrete = re.sub(r"\{[^}]+\}", "x", template)
        for method in item:
            with contextlib.suppress(AssertionError):
                claimed.add(match_operation(method, concrete).key)
    return frozenset(claimed)
