"""Pull requests: found by ``head=OWNER:BRANCH``, opened with ``POST pulls``, updated in place
through ``PATCH issues/{n}`` (title and body: ``labels`` there would replace the set), labels
only added or removed one by one, merged only at a known head."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from bot.adapters.github_client import Session
from bot.adapters.metrics import record_pr
from bot.core.promotion.merging import MergeMethod
from bot.services.github_ports import MergeRefusal, MergeResult, Pull, PullFile

# The repository settings that allow each method [OA repos/get].
_METHOD_SETTINGS: dict[MergeMethod, str] = {
    "merge": "allow_merge_commit",
    "squash": "allow_squash_merge",
    "rebase": "allow_rebase_merge",
}


class GitHubPullRequests:
    """``PullRequests`` over one installation's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rest = session.rest

    async def history(self, repo: str, head_branch: str) -> tuple[Pull, ...]:
        owner = repo.split("/", 1)[0]
        items = await self.rest.pages(
            f"/repos/{repo}/pulls",
            what=f"listing pull requests repo={repo} head={head_branch}",
            params={"head": f"{owner}:{head_branch}", "state": "all"},
            max_pages=1,
        )
        # Forks can use the same branch name; only the repository's own branch is ours.
        own = [i for i in items if (i["head"].get("repo") or {}).get("full_name") == repo]
        pulls = [await self._pull(item) for item in own]
        return tuple(sorted(pulls, key=lambda p: p.number, reverse=True))

    async def get(self, repo: str, number: int) -> Pull:
        what = f"reading pull request repo={repo} number={number}"
        return await self._pull(await self.rest.json(f"/repos/{repo}/pulls/{number}", what=what))

    async def recent(self, repo: str, *, state: Literal["open", "closed"]) -> tuple[Pull, ...]:
        items = await self.rest.pages(
            f"/repos/{repo}/pulls",
            what=f"listing {state} pull requests repo={repo}",
            params={"state": state, "sort": "updated", "direction": "desc"},
            max_pages=1,
        )
        return tuple([await self._pull(item) for item in items])

    async def files(self, repo: str, number: int) -> tuple[PullFile, ...]:
        items = await self.rest.pages(
            f"/repos/{repo}/pulls/{number}/files",
            what=f"listing pull request files repo={repo} number={number}",
        )
        return tuple(PullFile(i["filename"], i["status"]) for i in items)

    async def open(self, repo: str, *, head: str, base: str, title: str, body: str) -> Pull:
        response = await self.rest.call(
            "POST",
            f"/repos/{repo}/pulls",
            what=f"opening pull request repo={repo} head={head} base={base}",
            json={"title": title, "body": body, "head": head, "base": base},
        )
        record_pr("opened")
        return await self._pull(response.json())

    async def update(self, repo: str, number: int, *, title: str, body: str) -> None:
        await self.rest.call(
            "PATCH",
            f"/repos/{repo}/issues/{number}",
            what=f"updating pull request repo={repo} number={number}",
            json={"title": title, "body": body},
        )
        record_pr("updated")

    async def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        await self.rest.call(
            "POST",
            f"/repos/{repo}/issues/{number}/labels",
            what=f"adding labels repo={repo} number={number} labels={','.join(labels)}",
            json={"labels": list(labels)},
        )

    async def remove_label(self, repo: str, number: int, label: str) -> None:
        await self.rest.call(
            "DELETE",
            f"/repos/{repo}/issues/{number}/labels/{quote(label, safe='')}",
            what=f"removing label repo={repo} number={number} label={label}",
            accept=(404,),
        )

    async def merge_methods(self, repo: str) -> frozenset[MergeMethod]:
        item = await self.rest.json(f"/repos/{repo}", what=f"reading merge settings repo={repo}")
        return frozenset(m for m, key in _METHOD_SETTINGS.items() if item.get(key, True))

    async def merge(
        self, repo: str, number: int, *, head_sha: str, method: MergeMethod = "squash"
    ) -> MergeResult:
        response = await self.rest.call(
            "PUT",
            f"/repos/{repo}/pulls/{number}/merge",
            what=f"merging pull request repo={repo} number={number} sha={head_sha}",
            json={"sha": head_sha, "merge_method": method},
            accept=(405, 409),
        )
        if response.status_code == 200:
            record_pr("merged")
            return MergeResult(True)
        message = str(_json_or_empty(response).get("message") or "")
        return MergeResult(False, _refusal(response.status_code, message), message)

    async def _pull(self, item: Any) -> Pull:
        author = (item.get("user") or {}).get("login", "")
        merged_at = _time(item.get("merged_at"))
        return Pull(
            number=item["number"],
            state=item["state"],
            merged=bool(item.get("merged")) or merged_at is not None,
            title=item["title"],
            body=item.get("body") or "",
            head_ref=item["head"]["ref"],
            head_sha=item["head"]["sha"],
            base_ref=item["base"]["ref"],
            author=author,
            by_bot=author == await self.session.identity.login(),
            labels=tuple(label["name"] for label in item.get("labels") or ()),
            html_url=item.get("html_url", ""),
            merged_at=merged_at,
            mergeable=item.get("mergeable"),
            merge_sha=item.get("merge_commit_sha") if merged_at is not None else None,
        )


def _refusal(status: int, message: str) -> MergeRefusal:
    """GitHub's reason, from its status and words [OA pulls/merge: 405, 409]."""
    text = message.lower()
    if status == 409:
        return "head_moved"
    if "base branch was modified" in text:
        return "base_modified"
    if "merges are not allowed" in text or "merge commits are not allowed" in text:
        return "method_not_allowed"
    return "not_mergeable"


def _json_or_empty(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _time(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)
