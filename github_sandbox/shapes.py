"""Builders for the objects GitHub nests everywhere: users, repositories, apps, installations.

REST responses and webhook payloads share them, so a repository looks the same in both.
"""

from __future__ import annotations

import base64
from typing import Any

from github_sandbox.store import Record


def node_id(kind: str, record_id: int) -> str:
    return base64.b64encode(f"0:{kind}{record_id}".encode()).decode()


def user_shape(api: str, account: Record) -> dict[str, Any]:
    """``simple-user``; ``account`` is an ``account`` record (User, Organization or Bot)."""
    login = account["login"]
    url = f"{api}/users/{login}"
    # An app's bot user links to the app's page, as on GitHub (``/apps/<slug>``).
    html_url = f"{api}/apps/{login.removesuffix('[bot]')}" if account["type"] == "Bot" else None
    return {
        "login": login,
        "id": account["id"],
        "node_id": node_id(account["type"], account["id"]),
        "avatar_url": f"{api}/avatars/{login}",
        "gravatar_id": "",
        "url": url,
        "html_url": html_url or f"{api}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": account["type"],
        "user_view_type": "public",
        "site_admin": False,
    }


def public_user_shape(api: str, account: Record) -> dict[str, Any]:
    """``public-user``: the simple user plus profile fields."""
    return {
        **user_shape(api, account),
        "name": account.get("name"),
        "company": None,
        "blog": "",
        "location": None,
        "email": account.get("email"),
        "hireable": None,
        "bio": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": account["created_at"],
        "updated_at": account["created_at"],
    }


_REPO_LINKS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository_shape(api: str, repo: Record, owner: Record) -> dict[str, Any]:
    """``full-repository``, which also satisfies ``repository`` and webhook repositories."""
    full_name = f"{repo['owner']}/{repo['name']}"
    url = f"{api}/repos/{full_name}"
    counts = dict.fromkeys(
        (
            "forks",
            "forks_count",
            "stargazers_count",
            "watchers",
            "watchers_count",
            "network_count",
            "subscribers_count",
        ),
        0,
    )
    return {
        "id": repo["id"],
        "node_id": node_id("Repository", repo["id"]),
        "name": repo["name"],
        "full_name": full_name,
        "owner": user_shape(api, owner),
        "private": repo["private"],
        "visibility": "private" if repo["private"] else "public",
        "html_url": f"{api}/{full_name}",
        "description": repo.get("description"),
        "fork": False,
        "url": url,
        **{key: url + suffix for key, suffix in _REPO_LINKS.items()},
        "git_url": f"git://sandbox/{full_name}.git",
        "ssh_url": f"git@sandbox:{full_name}.git",
        "clone_url": f"{api}/{full_name}.git",
        "svn_url": f"{api}/{full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "size": 0,
        "default_branch": repo["default_branch"],
        "master_branch": repo["default_branch"],
        "open_issues": 0,
        "open_issues_count": 0,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "license": None,
        "allow_forking": True,
        "allow_merge_commit": repo.get("allow_merge_commit", True),
        "allow_squash_merge": repo.get("allow_squash_merge", True),
        "allow_rebase_merge": repo.get("allow_rebase_merge", True),
        "web_commit_signoff_required": False,
        "pushed_at": repo.get("pushed_at") or repo["created_at"],
        "created_at": repo["created_at"],
        "updated_at": repo.get("updated_at") or repo["created_at"],
        **counts,
    }


def app_shape(api: str, app: Record, owner: Record) -> dict[str, Any]:
    """``integration`` (a GitHub App)."""
    return {
        "id": app["id"],
        "slug": app["slug"],
        "node_id": node_id("Integration", app["id"]),
        "client_id": app["client_id"],
        "owner": user_shape(api, owner),
        "name": app["name"],
        "description": app.get("description") or "",
        "external_url": app.get("url") or f"{api}/apps/{app['slug']}",
        "html_url": f"{api}/apps/{app['slug']}",
        "created_at": app["created_at"],
        "updated_at": app["created_at"],
        "permissions": app["permissions"],
        "events": app["events"],
    }


def installation_shape(
    api: str, installation: Record, app: Record, account: Record
) -> dict[str, Any]:
    """``installation``."""
    return {
        "id": installation["id"],
        "account": user_shape(api, account),
        "repository_selection": installation["repository_selection"],
        "access_tokens_url": f"{api}/app/installations/{installation['id']}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{api}/settings/installations/{installation['id']}",
        "app_id": app["id"],
        "app_slug": app["slug"],
        "client_id": app["client_id"],
        "target_id": account["id"],
        "target_type": account["type"],
        "permissions": installation["permissions"],
        "events": installation["events"],
        "created_at": installation["created_at"],
        "updated_at": installation["created_at"],
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }
