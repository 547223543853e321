"""GitHub's error responses: ``{message, documentation_url}`` plus ``errors``/``status``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from github_sandbox.gitcore import GitFailed

log = logging.getLogger(__name__)
DOCS = "https://docs.github.com/rest"


class GitHubError(Exception):
    """Raise from a route to answer the way GitHub does."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
        documentation_url: str = DOCS,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.documentation_url = documentation_url

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": str(self.status),
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def error_response(error: GitHubError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def validation_failed(message: str, *, field: str = "", code: str = "invalid") -> GitHubError:
    """A 422 with one entry in ``errors``, GitHub's shape for a rejected field."""
    errors: list[Any] = [{"resource": "Sandbox", "field": field, "code": code, "message": message}]
    return GitHubError(422, message, errors=errors)


def install_handlers(app: FastAPI) -> None:
    async def on_github_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GitHubError)
        return error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"resource": "Request", "field": ".".join(map(str, e["loc"])), "code": "invalid"}
            for e in exc.errors()
        ]
        return error_response(GitHubError(422, "Invalid request.", errors=errors))

    async def on_git_failure(request: Request, exc: Exception) -> JSONResponse:
        log.error("git failed method=%s path=%s error=%s", request.method, request.url.path, exc)
        return error_response(GitHubError(500, "Server Error"))

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        # Unknown routes (404) and wrong methods (405) come from the router, not from a route.
        assert isinstance(exc, HTTPException)
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return error_response(
            GitHubError(exc.status_code, message, headers=dict(exc.headers or {}))
        )

    app.add_exception_handler(GitHubError, on_github_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(GitFailed, on_git_failure)
    app.add_exception_handler(RequestValidationError, on_validation)
