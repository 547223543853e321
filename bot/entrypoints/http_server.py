"""How the bot's HTTP server (``serve``, and the setup pages before it) is configured."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

# A client reuses an idle connection for up to 5 s (httpx) or 60 s (an AWS load balancer's
# default idle timeout); uvicorn closes one after 5 s. When both ends reach their limit
# together, the request sent as the server closes fails with "Server disconnected without
# sending a response". The server holds idle connections longer than any client does.
KEEP_ALIVE_S = 75


def server_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for the bot: its own logging, no access log, a long keep-alive."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
