"""Prometheus metrics: the metric objects and the small functions the rest of the bot calls
(the ``/metrics`` route that serves them is in ``bot.entrypoints.web``).

Every metric lives in ``REGISTRY`` (not prometheus-client's global one) so tests and a second
app in one process see exactly the bot's series. Label values are bounded: GitHub paths are
reduced to route templates (``route_of``) and installations are few.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from bot.services.ports import QueueStats

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

DELIVERIES = Counter(
    "promotion_bot_webhook_deliveries",
    "Webhook deliveries received, by event and outcome (queued, duplicate, ignored, rejected).",
    ["event", "outcome"],
    registry=REGISTRY,
)
QUEUE_JOBS = Gauge(
    "promotion_bot_queue_jobs",
    "Jobs in the queue by state, read at scrape time.",
    ["state"],
    registry=REGISTRY,
)
QUEUE_OLDEST_AGE = Gauge(
    "promotion_bot_queue_oldest_ready_age_seconds",
    "Age of the oldest job waiting to run (0 when none waits).",
    registry=REGISTRY,
)
JOB_WAIT = Histogram(
    "promotion_bot_job_wait_seconds",
    "Time a job was ready to run (due, or its lease ended) before a worker leased it, by kind.",
    ["kind"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "promotion_bot_job_duration_seconds",
    "Time spent running a job, by kind and outcome (done, retry, dead, wait, lost).",
    ["kind", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
PULL_REQUESTS = Counter(
    "promotion_bot_pull_requests",
    "What the bot did to promotion pull requests: opened, updated, merged (auto-merge).",
    ["action"],
    registry=REGISTRY,
)
GITHUB_CALLS = Counter(
    "promotion_bot_github_requests",
    "Calls to the GitHub API by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
RATE_LIMIT_REMAINING = Gauge(
    "promotion_bot_github_rate_limit_remaining",
    "x-ratelimit-remaining of the last GitHub answer, by installation ('app' for JWT calls).",
    ["installation", "resource"],
    registry=REGISTRY,
)
REDELIVERIES = Counter(
    "promotion_bot_redeliveries",
    "Failed webhook deliveries the sweeper asked GitHub to redeliver, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)

# Path segments that are values, not route structure; each prefix names the values after it.
_NAMED_PREFIXES = (
    (re.compile(r"^/repos/[^/]+/[^/]+"), "/repos/{owner}/{repo}"),
    (re.compile(r"^/orgs/[^/]+"), "/orgs/{org}"),
    (re.compile(r"^/users/[^/]+"), "/users/{user}"),
    (re.compile(r"^/app-manifests/[^/]+"), "/app-manifests/{code}"),
)
# Everything after these segments is a free-form path (a file or a ref name).
_REST_IS_PATH = re.compile(r"/(contents|git/refs|git/ref|git/matching-refs|branches|compare)/.+$")
_ID = re.compile(r"/(\d+|[0-9a-f]{40})(?=/|$)")
_GHES_PREFIX = "/api/v3"


def route_of(path: str) -> str:
    """The route template of a GitHub API path: ``/repos/a/b/pulls/7`` -> ``/repos/{owner}/
    {repo}/pulls/{id}``; keeps the metric's label values few."""
    path = path.removeprefix(_GHES_PREFIX) or "/"
    for pattern, template in _NAMED_PREFIXES:
        if pattern.match(path):
            path = pattern.sub(template, path, count=1)
            break
    path = _REST_IS_PATH.sub(lambda m: f"/{m.group(1)}/{{path}}", path)
    return _ID.sub("/{id}", path)


def record_delivery(event: str, outcome: str) -> None:
    """One webhook delivery answered: ``outcome`` is queued, duplicate, ignored or rejected."""
    DELIVERIES.labels(event, outcome).inc()


def record_pr(action: str) -> None:
    """The bot ``opened``, ``updated`` or ``merged`` (auto-merge) a promotion PR; people's merges
    and closes are not its actions."""
    PULL_REQUESTS.labels(action=action).inc()


def record_redelivery(outcome: str) -> None:
    """The sweeper asked for a redelivery: ``requested`` or ``failed``."""
    REDELIVERIES.labels(outcome=outcome).inc()


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    """A worker finished running one job (``outcome``: done, retry, dead, wait, or lost: its
    lease was lost while it ran)."""
    JOB_DURATION.labels(kind=kind, outcome=outcome).observe(seconds)


def observe_job_wait(kind: str, seconds: float) -> None:
    """A job was leased ``seconds`` after it became ready."""
    JOB_WAIT.labels(kind=kind).observe(seconds)


def set_queue_stats(stats: QueueStats) -> None:
    """The queue's depth by state and its oldest waiting job's age."""
    for state in ("ready", "leased", "dead"):
        QUEUE_JOBS.labels(state=state).set(getattr(stats, state))
    QUEUE_OLDEST_AGE.set(stats.oldest_ready_age)


def observe_github_response(response: httpx.Response, installation_id: int | None = None) -> None:
    """Count one GitHub answer and keep its rate-limit headroom. ``installation_id`` is the
    installation whose token made the call (None: the app's JWT or unknown)."""
    request = response.request
    GITHUB_CALLS.labels(
        method=request.method, route=route_of(request.url.path), status=str(response.status_code)
    ).inc()
    remaining = response.headers.get("x-ratelimit-remaining")
    if remaining is not None and remaining.isdigit():
        RATE_LIMIT_REMAINING.labels(
            installation="app" if installation_id is None else str(installation_id),
            resource=response.headers.get("x-ratelimit-resource", "core"),
        ).set(int(remaining))


def github_response_hook(
    installation_id: int | None = None,
) -> Callable[[httpx.Response], Awaitable[None]]:
    """An httpx async ``response`` event hook calling ``observe_github_response``: pass
    ``event_hooks={"response": [github_response_hook(id)]}`` to githubkit or httpx."""

    async def hook(response: httpx.Response) -> None:
        observe_github_response(response, installation_id)

    return hook


def render_metrics() -> bytes:
    """The Prometheus text exposition of every metric."""
    return generate_latest(REGISTRY)
