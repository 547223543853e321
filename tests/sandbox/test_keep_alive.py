"""Idle connections: the sandbox holds them longer than its clients do, so a client never sends
a request on a connection the server is closing ("Server disconnected without sending a
response", which failed a crash test's admin call after a 5 s restart of the bot). The bot's
own server does the same (``tests/entrypoints/test_setup.py``)."""

from __future__ import annotations

import time

import httpx

from github_sandbox.server import SandboxHandle

HTTPX_KEEP_ALIVE_S = 5.0  # httpx's default ``keepalive_expiry``, and uvicorn's default timeout


def _local_port(response: httpx.Response) -> int:
    """The client's port of the connection ``response`` came on (read while it is open)."""
    assert response.status_code == 200
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def test_the_sandbox_keeps_a_connection_idle_past_the_clients_expiry(
    live_sandbox: SandboxHandle,
) -> None:
    limits = httpx.Limits(keepalive_expiry=30.0)
    with httpx.Client(base_url=live_sandbox.url, limits=limits) as client:
        first = _local_port(client.get("/rate_limit"))
        time.sleep(HTTPX_KEEP_ALIVE_S + 0.5)
        again = _local_port(client.get("/rate_limit"))
    assert again == first, "the sandbox closed the idle connection"
