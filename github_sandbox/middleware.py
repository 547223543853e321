"""What wraps every API request: request id, faults, credentials, rate limits (primary and
secondary), ETag, request log.

A plain ASGI middleware, so it sees the final status and body (for ETags and for not counting
304s) and can drop a connection for the ``timeout``/``drop`` fault.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from github_sandbox.auth import ANONYMOUS, Principal, resolve_principal
from github_sandbox.errors import GitHubError
from github_sandbox.faults import FaultRule
from github_sandbox.secondary import DOCUMENTATION_URL, MESSAGE, SecondaryLimitHit
from github_sandbox.state import Sandbox

# Not API calls: the admin API and the browser pages have no budget, log or faults.
_UNMETERED_PREFIXES = ("/_sandbox", "/settings/", "/organizations/", "/apps/")
_FREE_PATHS = frozenset({"/rate_limit"})


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised after the response started, so servers close the socket mid-response."""


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, sandbox: Sandbox, templates: list[RouteTemplate]) -> None:
        self.app = app
        self.sandbox = sandbox
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNMETERED_PREFIXES):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request_id = uuid.uuid4().hex[:20].upper()
        principal, fault, status, limit = ANONYMOUS, None, 500, None
        try:
            principal = resolve_principal(self.sandbox, headers.get("authorization"))
            # In flight from here: a slow answer (a ``latency`` fault too) holds its slot.
            with self.sandbox.secondary_limits.admit(principal.bucket, scope["method"]):
                fault = self.sandbox.faults.pick(scope["method"], scope["path"])
                if fault is not None:
                    await _apply_fault(fault, send, request_id, int(self.sandbox.clock.now()))
                status, out_headers, body = await self._serve(scope, receive, principal, headers)
        except GitHubError as error:
            status, out_headers = error.status, dict(error.headers)
            limit = _limit_of(error, fault)
            body = json.dumps(error.body()).encode()
            out_headers["content-type"] = "application/json; charset=utf-8"
        finally:
            self.sandbox.metrics.record(
                at=self.sandbox.clock.now(),
                method=scope["method"],
                path=scope["path"],
                route=_route_template(self.templates, scope["method"], scope["path"]),
                status=status,
                installation_id=principal.installation_id,
                principal=principal.bucket,
                duration_ms=round((time.monotonic() - started) * 1000, 2),
                fault=fault.kind if fault else None,
                limit=limit,
            )
        spends = limit is None or not limit.startswith("secondary")
        for name, value in self._budget_headers(scope, principal, status, spends).items():
            out_headers.setdefault(name, value)
        out_headers["x-github-request-id"] = request_id
        out_headers["content-length"] = str(len(body))
        raw = [(k.encode(), v.encode()) for k, v in out_headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def _serve(
        self, scope: Scope, receive: Receive, principal: Principal, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        bucket = principal.bucket
        if scope["path"] not in _FREE_PATHS:
            budget = self.sandbox.rate_limits.peek(bucket)
            if budget.remaining == 0:
                raise _primary_limit(principal, budget.reset, budget.headers())
        scope.setdefault("state", {})["principal"] = principal
        status, out_headers, body = await _buffered(self.app, scope, receive)
        if scope["method"] == "GET" and status == 200:
            # An ETag is good for the credential that got it, as GitHub's ``Vary`` says.
            seen_by = principal.bucket.encode() + b"\0" + body
            etag = '"' + hashlib.sha256(seen_by).hexdigest()[:40] + '"'
            caching = _caching_headers(principal)
            out_headers.update({"etag": etag, **caching})
            if etag in headers.get("if-none-match", ""):
                return 304, {"etag": etag, **caching}, b""
        return status, out_headers, body

    def _budget_headers(
        self, scope: Scope, principal: Principal, status: int, spends: bool
    ) -> dict[str, str]:
        """The primary budget's headers, after spending one request unless it is free (304,
        401, ``/rate_limit``) or was refused by a secondary limit (which leaves
        ``x-ratelimit-remaining`` above 0, as GitHub's do)."""
        limits = self.sandbox.rate_limits
        if not spends or status in (304, 401) or scope["path"] in _FREE_PATHS:
            return limits.peek(principal.bucket).headers()
        return limits.spend(principal.bucket).headers()


async def _buffered(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, dict[str, str], bytes]:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
    headers.pop("content-length", None)
    return int(start.get("status", 500)), headers, b"".join(chunks)


# What GitHub sends on GET answers: ``public`` without credentials (docs "Getting started with
# the REST API"), ``private`` with them, and a ``Vary`` that keys caches by credential.
_VARY = "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding, Accept, X-Requested-With"


def _caching_headers(principal: Principal) -> dict[str, str]:
    scope = "public" if principal.kind == "anonymous" else "private"
    return {"cache-control": f"{scope}, max-age=60, s-maxage=60", "vary": _VARY}


# `{ref:path}` is a FastAPI detail; counters use GitHub's spelling `{ref}`.
_PARAM_TYPE = re.compile(r"\{(\w+):\w+\}")


@dataclass(frozen=True)
class RouteTemplate:
    path: str
    methods: frozenset[str]
    regex: re.Pattern[str]


def route_templates(routes: Iterable[Any]) -> list[RouteTemplate]:
    """The declared routes (``APIRoute``s of the route modules, and of the routers they
    include: FastAPI keeps an included router as one entry) as matchable templates."""
    return [
        RouteTemplate(
            _PARAM_TYPE.sub(r"{\1}", route.path), frozenset(route.methods or ()), route.path_regex
        )
        for route in _api_routes(routes)
    ]


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            # Included without a prefix (``collab_routes``): the paths are the routes' own.
            yield from _api_routes(included.routes)


def _route_template(templates: list[RouteTemplate], method: str, path: str) -> str:
    """The template a request path matches (the counters' key), or the path itself."""
    for template in templates:
        if method in template.methods and template.regex.match(path):
            return template.path
    return path


def _limit_of(error: GitHubError, fault: FaultRule | None) -> str | None:
    """Which rate limit refused the request, for the request log: ``secondary:<reason>``,
    ``primary``, or ``secondary:fault``/``primary:fault`` when a fault rule answered."""
    if isinstance(error, SecondaryLimitHit):
        return f"secondary:{error.reason}"
    if fault is not None and fault.kind in ("secondary_rate_limit", "primary_rate_limit"):
        return fault.kind.removesuffix("_rate_limit") + ":fault"
    if error.status == 403 and error.message.startswith("API rate limit exceeded"):
        return "primary"
    return None


def _primary_limit(principal: Principal, reset: int, headers: dict[str, str]) -> GitHubError:
    who = (
        f"installation ID {principal.installation_id}"
        if principal.installation_id
        else principal.bucket
    )
    return GitHubError(
        403,
        f"API rate limit exceeded for {who}.",
        headers={**headers, "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        documentation_url="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    )


async def _apply_fault(rule: FaultRule, send: Send, request_id: str, now: int) -> None:
    """Raise the fault's answer, or (latency) return after the delay to serve normally."""
    if rule.kind in ("latency", "timeout"):
        await asyncio.sleep(rule.seconds)
    if rule.kind == "latency":
        return
    if rule.kind == "timeout" and rule.drop:
        headers = [(b"content-length", b"100"), (b"x-github-request-id", request_id.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise ConnectionDropped("sandbox fault: connection dropped")
    raise _fault_error(rule, now)


def _fault_error(rule: FaultRule, now: int) -> GitHubError:
    if rule.kind == "timeout":
        return GitHubError(504, "We couldn't respond to your request in time. Sorry about that.")
    if rule.kind == "secondary_rate_limit":
        # GitHub often leaves ``retry-after`` out; a rule with ``retry_after: null`` does too.
        asked = {} if rule.retry_after is None else {"retry-after": str(rule.retry_after)}
        return GitHubError(
            rule.status or 403,
            MESSAGE,
            headers=asked,
            documentation_url=DOCUMENTATION_URL,
        )
    if rule.kind == "primary_rate_limit":
        reset = now + (60 if rule.retry_after is None else rule.retry_after)
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-used": "5000"}
        return _primary_limit(ANONYMOUS, reset, headers)
    if rule.kind == "ref_race":
        return GitHubError(422, "Update is not a fast forward")
    return GitHubError(rule.status or 502, "Server Error")
