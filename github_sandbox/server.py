"""Running the sandbox on loopback in a background thread (tests, demo, CLI)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from github_sandbox.app import create_app, sandbox_of_app
from github_sandbox.state import Sandbox

_START_TIMEOUT_S = 10.0


@dataclass
class SandboxHandle:
    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def sandbox(self) -> Sandbox:
        return sandbox_of_app(self.app)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=_START_TIMEOUT_S)
        self.sandbox.close()


# GitHub holds an idle connection longer than its clients do (httpx: 5 s); with uvicorn's 5 s
# default, a request sent as the sandbox closed its connection failed with "Server disconnected
# without sending a response" (a crash test's admin call after a 5 s restart of the bot).
KEEP_ALIVE_S = 75


def run_sandbox(
    data_dir: Path, *, port: int = 0, host: str = "127.0.0.1", **options: Any
) -> SandboxHandle:
    """Serve a sandbox over ``data_dir`` on ``host:port`` (0 picks a free port); returns once
    it accepts connections. ``options`` go to ``create_app``."""
    app = create_app(data_dir, **options)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"starting sandbox failed host={host} port={port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://{host}:{bound}"
    sandbox_of_app(app).urls.api = url
    return SandboxHandle(url=url, app=app, server=server, thread=thread)
