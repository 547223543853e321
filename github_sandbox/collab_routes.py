"""The collaboration routes joined in one router: pull requests, issues, comments, labels,
check runs, collaborators and teams, the admin acts that drive them as a person, and the admin
routes for organisations and teams.

``app.py`` lists this module once; the people pages (``pages``) are listed separately and last,
since their ``/{owner}/{repo}`` paths would shadow two-segment API paths registered after them.
"""

from __future__ import annotations

from fastapi import APIRouter

from github_sandbox import (
    checks,
    collab,
    collab_admin_api,
    issues,
    issues_comments,
    orgs_admin_api,
    pulls,
)

router = APIRouter()
for module in (pulls, issues, issues_comments, checks, collab, collab_admin_api, orgs_admin_api):
    router.include_router(module.router)
