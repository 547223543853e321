"""The app's webhook deliveries: list (cursor pagination, ``status`` filter), get, redeliver."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from github_sandbox.auth import require_app
from github_sandbox.errors import not_found
from github_sandbox.pagination import page_bounds
from github_sandbox.state import sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/app/hook/deliveries")

_ITEM_FIELDS = (
    "id",
    "guid",
    "delivered_at",
    "redelivery",
    "duration",
    "status",
    "status_code",
    "event",
    "action",
    "installation_id",
    "repository_id",
)


def delivery_item(delivery: Record) -> dict[str, Any]:
    return {**{key: delivery[key] for key in _ITEM_FIELDS}, "throttled_at": None}


@router.get("")
def list_deliveries(
    request: Request, cursor: str | None = None, status: str | None = None
) -> JSONResponse:
    app = require_app(request)
    _, per_page = page_bounds(request)
    deliveries = [
        d
        for d in reversed(sandbox_of(request).store.find("delivery"))
        if d["app_id"] == app["id"]
        and (status is None or (d["status"] == "OK") == (status == "success"))
        and (cursor is None or d["id"] < int(cursor))
    ]
    page = deliveries[:per_page]
    headers = {}
    if len(deliveries) > per_page:
        url = request.url.include_query_params(per_page=per_page, cursor=page[-1]["id"])
        headers["link"] = f'<{url}>; rel="next"'
    return JSONResponse([delivery_item(d) for d in page], headers=headers)


def _own(request: Request, delivery_id: int) -> Record:
    app = require_app(request)
    delivery = sandbox_of(request).store.get("delivery", delivery_id)
    if delivery is None or delivery["app_id"] != app["id"]:
        raise not_found()
    return delivery


@router.get("/{delivery_id}")
def get_delivery(request: Request, delivery_id: int) -> dict[str, Any]:
    delivery = _own(request, delivery_id)
    return {
        **delivery_item(delivery),
        "url": delivery["url"],
        "request": {
            "headers": delivery["request"]["headers"],
            "payload": json.loads(delivery["request"]["body"]),
        },
        "response": {
            "headers": delivery["response"]["headers"],
            "payload": delivery["response"]["body"],
        },
    }


@router.post("/{delivery_id}/attempts", status_code=202)
def redeliver(request: Request, delivery_id: int) -> dict[str, Any]:
    sandbox_of(request).webhooks.redeliver(_own(request, delivery_id))
    return {}
