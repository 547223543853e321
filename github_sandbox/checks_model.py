"""Check runs and check suites: validation with GitHub's limits, records and shapes.

A ``check_run`` record (key: its head sha) belongs to the app that created it and to the
``check_suite`` of that app and sha (key: ``<app id>:<sha>``), created on first use.
"""

from __future__ import annotations

from typing import Any

from github_sandbox.errors import GitHubError, not_found
from github_sandbox.payloads import account_record
from github_sandbox.pulls_model import open_pulls
from github_sandbox.shapes import app_shape, node_id
from github_sandbox.shapes_git import repo_api, repo_html
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale",
    "timed_out",
)  # fmt: skip
MAX_ACTIONS = 3
# GitHub's limits on a requested-action button, in characters.
ACTION_LIMITS = {"label": 20, "description": 40, "identifier": 20}
MAX_OUTPUT_TEXT = 65535


def check_error(message: str, field: str) -> GitHubError:
    error = {"resource": "CheckRun", "code": "invalid", "field": field, "message": message}
    return GitHubError(422, "Validation Failed", errors=[error])


def invalid_request(detail: str, docs: str) -> GitHubError:
    """GitHub's answer when a check run body breaks its JSON schema: no ``errors``, the reason
    in the message ("Invalid request.\n\nOnly 65535 characters are allowed; 95964 were
    supplied.", as reported by API clients, e.g. reviewdog/action-actionlint#72)."""
    return GitHubError(422, f"Invalid request.\n\n{detail}", documentation_url=docs)


def validate_actions(actions: list[dict[str, Any]], docs: str) -> None:
    """OpenAPI ``checks/create`` and ``checks/update``: ``maxItems: 3``; ``label`` <= 20,
    ``description`` <= 40, ``identifier`` <= 20 characters, all three required."""
    if len(actions) > MAX_ACTIONS:
        detail = f"No more than {MAX_ACTIONS} items are allowed; {len(actions)} were supplied."
        raise invalid_request(detail, docs)
    for action in actions:
        for name, limit in ACTION_LIMITS.items():
            value = action.get(name)
            if not isinstance(value, str):
                raise invalid_request(f'"{name}" wasn\'t supplied.', docs)
            if len(value) > limit:
                detail = f"Only {limit} characters are allowed; {len(value)} were supplied."
                raise invalid_request(detail, docs)


def validate_output(output: dict[str, Any] | None, docs: str) -> None:
    if output is None:
        return
    if not output.get("title") or not output.get("summary"):
        raise check_error("output needs a title and a summary", "output")
    for name in ("summary", "text"):
        size = len(output.get(name) or "")
        if size > MAX_OUTPUT_TEXT:
            detail = f"Only {MAX_OUTPUT_TEXT} characters are allowed; {size} were supplied."
            raise invalid_request(detail, docs)


def resolve_status(status: str | None, conclusion: str | None) -> str:
    """A conclusion completes the run; completing needs a conclusion."""
    if status is not None and status not in STATUSES:
        raise check_error(f"unknown status status={status}", "status")
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise check_error(f"unknown conclusion conclusion={conclusion}", "conclusion")
    resolved = "completed" if conclusion is not None else (status or "queued")
    if resolved == "completed" and conclusion is None:
        raise check_error("conclusion is required when status is completed", "conclusion")
    return resolved


def check_suite(sandbox: Sandbox, repo: Record, app_id: int, head_sha: str) -> Record:
    key = f"{app_id}:{head_sha}"
    found = sandbox.store.find_one("check_suite", key=key, repo_id=repo["id"])
    if found is not None:
        return found
    data = {"app_id": app_id, "head_sha": head_sha, "created_at": sandbox.clock.iso()}
    return sandbox.store.insert("check_suite", data, repo_id=repo["id"], key=key)


def find_check_run(sandbox: Sandbox, repo: Record, check_run_id: int) -> Record:
    run = sandbox.store.get("check_run", check_run_id)
    if run is None or run["repo_id"] != repo["id"]:
        raise not_found()
    return run


def _pull_refs(sandbox: Sandbox, repo: Record, head_sha: str) -> list[dict[str, Any]]:
    """Open pull requests whose head is this sha: the ``pull_requests`` of a check run."""
    api = repo_api(sandbox, repo)
    short_repo = {"id": repo["id"], "url": api, "name": repo["name"]}
    return [
        {
            "id": pull["id"],
            "number": pull["number"],
            "url": f"{api}/pulls/{pull['number']}",
            "head": {"ref": pull["head"], "sha": pull["head_sha"], "repo": short_repo},
            "base": {"ref": pull["base"], "sha": pull["base_sha"], "repo": short_repo},
        }
        for pull in open_pulls(sandbox, repo)
        if pull["head_sha"] == head_sha
    ]


def check_run_shape(sandbox: Sandbox, repo: Record, run: Record) -> dict[str, Any]:
    """``check-run``; also the webhook ``check_run`` object."""
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    app = sandbox.store.get("app", run["app_id"]) or {}
    output = run["output"] or {}
    pulls = _pull_refs(sandbox, repo, run["head_sha"])
    suite = check_suite(sandbox, repo, run["app_id"], run["head_sha"])
    return {
        "id": run["id"],
        "head_sha": run["head_sha"],
        "node_id": node_id("CheckRun", run["id"]),
        "external_id": run["external_id"],
        "url": f"{api}/check-runs/{run['id']}",
        "html_url": f"{html}/runs/{run['id']}",
        # GitHub falls back to the run's own page when the app gives no details URL.
        "details_url": run["details_url"] or f"{html}/runs/{run['id']}",
        "status": run["status"],
        "conclusion": run["conclusion"],
        "started_at": run["started_at"],
        "completed_at": run["completed_at"],
        "output": {
            "title": output.get("title"),
            "summary": output.get("summary"),
            "text": output.get("text"),
            "annotations_count": 0,
            "annotations_url": f"{api}/check-runs/{run['id']}/annotations",
        },
        "name": run["name"],
        "check_suite": _suite_shape(sandbox, repo, suite, pulls),
        "app": app_shape(sandbox.urls.api, app, account_record(sandbox, app["owner"])),
        "pull_requests": pulls,
    }


def _suite_shape(
    sandbox: Sandbox, repo: Record, suite: Record, pulls: list[dict[str, Any]]
) -> dict[str, Any]:
    """The check suite as nested in a check run (``simple-check-suite`` plus its ``id``)."""
    api = repo_api(sandbox, repo)
    branch = pulls[0]["head"]["ref"] if pulls else None
    return {
        "id": suite["id"],
        "node_id": node_id("CheckSuite", suite["id"]),
        "head_sha": suite["head_sha"],
        "head_branch": branch,
        "status": "queued",
        "conclusion": None,
        "url": f"{api}/check-suites/{suite['id']}",
        "before": None,
        "after": suite["head_sha"],
        "pull_requests": pulls,
        "created_at": suite["created_at"],
        "updated_at": suite["created_at"],
    }
