"""Metrics: route templates, the recording functions, the httpx hook and ``/metrics``."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from bot.adapters import metrics
from bot.entrypoints.web import metrics_router
from bot.services.ports import QueueStats


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/repos/acme/env/pulls/7", "/repos/{owner}/{repo}/pulls/{id}"),
        ("/repos/acme/env/pulls", "/repos/{owner}/{repo}/pulls"),
        ("/repos/acme/env/contents/apps/web/values.yaml", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/acme/env/git/ref/heads/promote/prod", "/repos/{owner}/{repo}/git/ref/{path}"),
        ("/repos/acme/env/git/refs/heads/main", "/repos/{owner}/{repo}/git/refs/{path}"),
        ("/repos/acme/env/git/refs", "/repos/{owner}/{repo}/git/refs"),
        ("/repos/a/b/git/trees/" + "ab12" * 10, "/repos/{owner}/{repo}/git/trees/{id}"),
        ("/repos/a/b/compare/main...dev", "/repos/{owner}/{repo}/compare/{path}"),
        ("/repos/a/b/issues/3/comments", "/repos/{owner}/{repo}/issues/{id}/comments"),
        ("/app/installations/42/access_tokens", "/app/installations/{id}/access_tokens"),
        ("/app/hook/deliveries/1001/attempts", "/app/hook/deliveries/{id}/attempts"),
        ("/orgs/acme/teams/ops/members", "/orgs/{org}/teams/ops/members"),
        ("/users/octocat/packages", "/users/{user}/packages"),
        ("/app-manifests/abc123/conversions", "/app-manifests/{code}/conversions"),
        ("/api/v3/repos/acme/env/pulls/1", "/repos/{owner}/{repo}/pulls/{id}"),
        ("/api/v3", "/"),
        ("/app", "/app"),
    ],
)
def test_route_of(path: str, route: str) -> None:
    assert metrics.route_of(path) == route


def test_record_functions_count() -> None:
    before = sample("promotion_bot_webhook_deliveries_total", event="push", outcome="queued")
    metrics.record_delivery("push", "queued")
    metrics.record_delivery("push", "queued")
    after = sample("promotion_bot_webhook_deliveries_total", event="push", outcome="queued")
    assert after - before == 2
    before = sample("promotion_bot_pull_requests_total", action="opened")
    metrics.record_pr("opened")
    assert sample("promotion_bot_pull_requests_total", action="opened") - before == 1
    before = sample("promotion_bot_job_duration_seconds_count", kind="event", outcome="done")
    metrics.observe_job("event", "done", 0.3)
    after = sample("promotion_bot_job_duration_seconds_count", kind="event", outcome="done")
    assert after - before == 1
    metrics.observe_job_wait("event", 2.0)
    assert sample("promotion_bot_job_wait_seconds_count", kind="event") >= 1


def test_queue_stats_and_age() -> None:
    metrics.set_queue_stats(QueueStats(ready=3, leased=1, dead=2, oldest_ready_age=12.5))
    assert sample("promotion_bot_queue_jobs", state="ready") == 3
    assert sample("promotion_bot_queue_jobs", state="dead") == 2
    assert sample("promotion_bot_queue_oldest_ready_age_seconds") == 12.5


async def test_response_hook_counts_calls_and_keeps_rate_limit() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"x-ratelimit-remaining": "4990", "x-ratelimit-resource": "core"}
        return httpx.Response(404 if "missing" in request.url.path else 200, headers=headers)

    hooks = {"response": [metrics.github_response_hook(77)]}
    labels = {"method": "GET", "route": "/repos/{owner}/{repo}/pulls/{id}", "status": "404"}
    before = sample("promotion_bot_github_requests_total", **labels)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(answer), event_hooks=hooks, base_url="https://gh.test"
    ) as client:
        await client.get("/repos/acme/missing/pulls/9")
        await client.get("/repos/acme/env/pulls/9")
    assert sample("promotion_bot_github_requests_total", **labels) - before == 1
    remaining = sample(
        "promotion_bot_github_rate_limit_remaining", installation="77", resource="core"
    )
    assert remaining == 4990


class StubQueue:
    async def stats(self) -> QueueStats:
        return QueueStats(ready=5, leased=0, done=9, dead=1, deliveries=15)


async def test_metrics_endpoint_is_prometheus_text() -> None:
    app = FastAPI()
    app.include_router(metrics_router(StubQueue()))
    metrics.record_delivery("pull_request", "duplicate")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot.test"
    ) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    queue = {s.labels["state"]: s.value for s in families["promotion_bot_queue_jobs"].samples}
    assert queue == {"ready": 5.0, "leased": 0.0, "dead": 1.0}
    names = set(families)
    assert {
        "promotion_bot_webhook_deliveries",
        "promotion_bot_job_duration_seconds",
        "promotion_bot_pull_requests",
        "promotion_bot_github_requests",
        "promotion_bot_github_rate_limit_remaining",
        "promotion_bot_redeliveries",
    } <= names
