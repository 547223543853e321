"""Check run routes (apps only), and ``check_run`` events for the app that owns the run:
``created``, ``completed``, and ``requested_action`` when a person clicks one of its buttons."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from github_sandbox.auth import principal_of, repo_access
from github_sandbox.checks_model import (
    check_run_shape,
    check_suite,
    find_check_run,
    resolve_status,
    validate_actions,
    validate_output,
)
from github_sandbox.errors import GitHubError
from github_sandbox.payloads import base_payload, installation_ref, installations_for_repo
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/repos/{owner}/{repo}")


def emit_check_run_event(
    sandbox: Sandbox, repo: Record, run: Record, action: str, sender: str, **extra: Any
) -> None:
    """GitHub sends a check run's events to the app that created it, not to every app."""
    payload = {
        "action": action,
        "check_run": check_run_shape(sandbox, repo, run),
        **extra,
        **base_payload(sandbox, repo, sender),
    }
    for installation in installations_for_repo(sandbox, repo):
        if installation["app_id"] == run["app_id"]:
            full = {**payload, "installation": installation_ref(installation)}
            sandbox.webhooks.emit("check_run", full, installation["id"])


def request_action(sandbox: Sandbox, repo: Record, run: Record, identifier: str, user: str) -> None:
    """A person clicked the button ``identifier`` of ``run``; GitHub shows the buttons only
    "after the check run completes" (OpenAPI ``checks/create``, ``actions``)."""
    if run["status"] != "completed":
        message = f"check run is not completed, its buttons are not shown status={run['status']}"
        raise GitHubError(422, message)
    if identifier not in {action["identifier"] for action in run["actions"]}:
        raise GitHubError(422, f"check run has no such action identifier={identifier}")
    extra = {"requested_action": {"identifier": identifier}}
    emit_check_run_event(sandbox, repo, run, "requested_action", user, **extra)


class OutputIn(BaseModel):
    title: str | None = None
    summary: str | None = None
    text: str | None = None


class ActionIn(BaseModel):
    # Checked in ``validate_actions``, so that a missing one gets GitHub's message.
    label: str | None = None
    description: str | None = None
    identifier: str | None = None


class CheckRunIn(BaseModel):
    name: str | None = None
    head_sha: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    status: str | None = None
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    output: OutputIn | None = None
    actions: list[ActionIn] | None = None


def _app_access(request: Request, owner: str, repo: str) -> tuple[Sandbox, Record, int, str]:
    record = repo_access(request, owner, repo, "checks", "write")
    principal = principal_of(request)
    if principal.kind != "installation" or principal.app_id is None:
        raise GitHubError(403, "You must authenticate via a GitHub App.")
    app = sandbox_of(request).store.get("app", principal.app_id) or {"slug": "app"}
    return sandbox_of(request), record, principal.app_id, f"{app['slug']}[bot]"


DOCS_CREATE = "https://docs.github.com/rest/checks/runs#create-a-check-run"
DOCS_UPDATE = "https://docs.github.com/rest/checks/runs#update-a-check-run"


def _apply(sandbox: Sandbox, run: Record, body: CheckRunIn, docs: str) -> Record:
    given = body.model_dump(exclude_unset=True)
    actions: list[dict[str, Any]] = given.get("actions", run.get("actions")) or []
    validate_actions(actions, docs)
    output = given.get("output", run.get("output"))
    validate_output(output, docs)
    status_in, conclusion_in = given.get("status"), given.get("conclusion")
    if status_in is None and conclusion_in is None:
        status_in, conclusion_in = run.get("status"), run.get("conclusion")
    status = resolve_status(status_in, conclusion_in)
    completed_at = given.get("completed_at") or run.get("completed_at")
    if status == "completed" and completed_at is None:
        completed_at = sandbox.clock.iso()
    plain = ("name", "details_url", "external_id", "started_at")
    return {
        **run,
        **{key: given[key] for key in plain if key in given},
        "status": status,
        "conclusion": conclusion_in if status == "completed" else None,
        "completed_at": completed_at if status == "completed" else None,
        "output": output,
        "actions": actions,
    }


@router.post("/check-runs", status_code=201)
def create_check_run(request: Request, owner: str, repo: str, body: CheckRunIn) -> dict[str, Any]:
    sandbox, record, app_id, bot = _app_access(request, owner, repo)
    if not body.name or not body.head_sha:
        raise GitHubError(422, 'Invalid request.\n\n"name" and "head_sha" are required.')
    head_sha = sandbox.git(record).resolve_commit(body.head_sha)
    if head_sha is None or head_sha != body.head_sha.lower():
        raise GitHubError(422, f"No commit found for SHA: {body.head_sha}")
    base = {"app_id": app_id, "repo_id": record["id"], "head_sha": head_sha, "name": body.name,
            "details_url": None, "external_id": "", "started_at": sandbox.clock.iso()}  # fmt: skip
    run = _apply(sandbox, base, body, DOCS_CREATE)
    check_suite(sandbox, record, app_id, head_sha)
    run = sandbox.store.insert("check_run", run, repo_id=record["id"], key=head_sha)
    emit_check_run_event(sandbox, record, run, "created", bot)
    if run["status"] == "completed":
        emit_check_run_event(sandbox, record, run, "completed", bot)
    return check_run_shape(sandbox, record, run)


@router.patch("/check-runs/{check_run_id}")
def update_check_run(
    request: Request, owner: str, repo: str, check_run_id: int, body: CheckRunIn
) -> dict[str, Any]:
    sandbox, record, app_id, bot = _app_access(request, owner, repo)
    run = find_check_run(sandbox, record, check_run_id)
    if run["app_id"] != app_id:
        message = f"Invalid app_id `{app_id}` - check run can only be modified by its creator"
        raise GitHubError(403, message)
    updated = sandbox.store.update("check_run", _apply(sandbox, run, body, DOCS_UPDATE))
    if updated["status"] == "completed" and run["status"] != "completed":
        emit_check_run_event(sandbox, record, updated, "completed", bot)
    return check_run_shape(sandbox, record, updated)


@router.get("/check-runs/{check_run_id}")
def get_check_run(request: Request, owner: str, repo: str, check_run_id: int) -> dict[str, Any]:
    record = repo_access(request, owner, repo, "checks", "read")
    sandbox = sandbox_of(request)
    return check_run_shape(sandbox, record, find_check_run(sandbox, record, check_run_id))


@router.get("/commits/{ref:path}/check-runs")
def list_for_ref(
    request: Request,
    owner: str,
    repo: str,
    ref: str,
    *,
    check_name: str | None = None,
    status: str | None = None,
    filter: Literal["latest", "all"] = "latest",
    app_id: int | None = None,
) -> dict[str, Any]:
    record = repo_access(request, owner, repo, "checks", "read")
    sandbox = sandbox_of(request)
    sha = sandbox.git(record).resolve_commit(ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    runs = [
        run
        for run in reversed(sandbox.store.find("check_run", key=sha, repo_id=record["id"]))
        if check_name in (None, run["name"]) and status in (None, run["status"])
        and app_id in (None, run["app_id"])
    ]  # fmt: skip
    if filter == "latest":
        latest = {(run["app_id"], run["name"]): run for run in reversed(runs)}
        runs = [run for run in runs if latest[(run["app_id"], run["name"])] is run]
    shaped = [check_run_shape(sandbox, record, run) for run in runs]
    return {"total_count": len(shaped), "check_runs": shaped}
