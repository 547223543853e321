"""Operational admin endpoints: request log and counters, faults, secondary rate limits, clock,
and deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from github_sandbox.admin_guard import require_admin
from github_sandbox.faults import FaultRule
from github_sandbox.metrics import as_json
from github_sandbox.secondary import SecondaryFigures
from github_sandbox.state import sandbox_of

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(require_admin)])


@router.get("/requests")
def list_requests(
    request: Request,
    installation_id: int | None = None,
    route: str | None = None,
    since: float | None = None,
) -> list[dict[str, Any]]:
    metrics = sandbox_of(request).metrics
    found = metrics.requests(installation_id=installation_id, route=route, since=since)
    return [as_json(entry) for entry in found]


@router.get("/counters")
def get_counters(
    request: Request,
    installation_id: int | None = None,
    route: str | None = None,
    since: float | None = None,
) -> dict[str, Any]:
    metrics = sandbox_of(request).metrics
    return metrics.counters(installation_id=installation_id, route=route, since=since)


@router.delete("/requests", status_code=204)
def reset_requests(request: Request) -> None:
    sandbox_of(request).metrics.reset()


@router.put("/faults")
def set_faults(request: Request, rules: list[FaultRule]) -> list[dict[str, Any]]:
    faults = sandbox_of(request).faults
    faults.configure(rules)
    return faults.describe()


@router.get("/faults")
def get_faults(request: Request) -> list[dict[str, Any]]:
    return sandbox_of(request).faults.describe()


@router.put("/secondary-limits")
def set_secondary_limits(request: Request, figures: SecondaryFigures) -> dict[str, Any]:
    """Replace the secondary limits (``{"enabled": true}`` alone is GitHub's figures); what
    each credential spent so far is forgotten."""
    limits = sandbox_of(request).secondary_limits
    limits.configure(figures)
    return limits.figures.model_dump()


@router.get("/secondary-limits")
def get_secondary_limits(request: Request) -> dict[str, Any]:
    return sandbox_of(request).secondary_limits.figures.model_dump()


class AdvanceIn(BaseModel):
    seconds: float


@router.post("/clock/advance")
def advance_clock(request: Request, body: AdvanceIn) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    offset = sandbox.advance_clock(body.seconds)
    return {"offset": offset, "now": sandbox.clock.now(), "iso": sandbox.clock.iso()}


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    clock = sandbox_of(request).clock
    return {"offset": clock.offset, "now": clock.now(), "iso": clock.iso()}


@router.get("/deliveries")
def list_deliveries(request: Request, event: str | None = None) -> list[dict[str, Any]]:
    deliveries = sandbox_of(request).store.find("delivery")
    return [d for d in deliveries if event is None or d["event"] == event]


@router.post("/deliveries/flush")
def flush_deliveries(request: Request, timeout: float = 10.0) -> dict[str, Any]:
    return {"idle": sandbox_of(request).webhooks.wait_idle(timeout)}
