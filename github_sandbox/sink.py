"""A webhook sink: ``POST /_sandbox/sink/{name}`` records what it receives and ``GET`` lists it.

Point an app's webhook URL at a live sandbox's sink to see exactly what was delivered. It has no
admin token, since webhook senders do not send one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from github_sandbox.state import sandbox_of

router = APIRouter(prefix="/_sandbox/sink")


@router.post("/{name}")
async def sink_receive(request: Request, name: str) -> dict[str, Any]:
    body = (await request.body()).decode()
    headers = dict(request.headers)
    sandbox_of(request).store.insert("sink", {"headers": headers, "body": body}, key=name)
    return {"ok": True}


@router.get("/{name}")
def sink_list(request: Request, name: str) -> list[dict[str, Any]]:
    return sandbox_of(request).store.find("sink", key=name)
