"""The app factory: one FastAPI app, its middleware, and every route module joined here."""

from __future__ import annotations

import importlib
from pathlib import Path

import httpx
from fastapi import FastAPI

from github_sandbox.errors import install_handlers
from github_sandbox.middleware import SandboxMiddleware, route_templates
from github_sandbox.secondary import OFF, SecondaryFigures
from github_sandbox.state import Sandbox

# One visible list of route modules; each exposes ``router: APIRouter``.
ROUTE_MODULES: tuple[str, ...] = (
    "github_sandbox.admin",
    "github_sandbox.admin_ops",
    "github_sandbox.sink",
    "github_sandbox.routes_apps",
    "github_sandbox.routes_users",
    "github_sandbox.routes_repos",
    "github_sandbox.routes_git",
    "github_sandbox.collab_routes",  # before routes_history: /commits/{ref}/check-runs
    "github_sandbox.routes_history",
    "github_sandbox.routes_releases",
    "github_sandbox.routes_deliveries",
    "github_sandbox.packages",
    "github_sandbox.routes_manifest",
    "github_sandbox.pages",  # last: its /{owner}/{repo} pages must not shadow API paths
)

# Modules that register ``pushes.on_ref_updates`` hooks on import; imported here so that the
# hooks are on whether or not a route module happens to import them.
HOOK_MODULES: tuple[str, ...] = ("github_sandbox.pulls_sync",)


def create_app(
    data_dir: Path,
    *,
    seed: int = 0,
    rate_limit: int = 5000,
    secondary_limits: SecondaryFigures = OFF,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    admin_token: str | None = None,
) -> FastAPI:
    """A sandbox over ``data_dir`` (created if missing; reopened with all its state if not).

    ``webhook_transport`` replaces the network for webhook deliveries (e.g. an
    ``httpx.ASGITransport`` to the bot's app in tests). With ``admin_token`` the ``/_sandbox/``
    API wants ``Authorization: Bearer <admin_token>``. ``secondary_limits`` are off unless
    given (``SecondaryFigures()`` is GitHub's figures); ``PUT /_sandbox/secondary-limits``
    changes them on a running sandbox.
    """
    sandbox = Sandbox(
        data_dir,
        seed=seed,
        rate_limit=rate_limit,
        secondary_limits=secondary_limits,
        webhook_transport=webhook_transport,
        admin_token=admin_token,
    )
    app = FastAPI(
        title="Promotion Bot GitHub sandbox",
        openapi_url="/_sandbox/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.sandbox = sandbox
    install_handlers(app)
    for name in HOOK_MODULES:
        importlib.import_module(name)
    routers = [importlib.import_module(name).router for name in ROUTE_MODULES]
    for router in routers:
        app.include_router(router)
    templates = route_templates(route for router in routers for route in router.routes)
    app.add_middleware(SandboxMiddleware, sandbox=sandbox, templates=templates)
    return app


def sandbox_of_app(app: FastAPI) -> Sandbox:
    sandbox: Sandbox = app.state.sandbox
    return sandbox
