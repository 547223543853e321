"""Comments, issues and check runs: what the bot writes next to pull requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.github_client import Session
from bot.services.conversation_ports import CheckRunSpec, Comment, Issue, Reaction


class GitHubComments:
    """``Comments``: the bot finds its own by hidden metadata, so ``by_bot`` must be exact."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rest = session.rest

    async def list(self, repo: str, number: int) -> tuple[Comment, ...]:
        items = await self.rest.pages(
            f"/repos/{repo}/issues/{number}/comments",
            what=f"listing comments repo={repo} number={number}",
        )
        bot = await self.session.identity.login()
        return tuple(Comment(i["id"], i.get("body") or "", _login(i) == bot) for i in items)

    async def create(self, repo: str, number: int, body: str) -> int:
        response = await self.rest.call(
            "POST",
            f"/repos/{repo}/issues/{number}/comments",
            what=f"commenting repo={repo} number={number}",
            json={"body": body},
        )
        comment_id: int = response.json()["id"]
        return comment_id

    async def edit(self, repo: str, comment_id: int, body: str) -> None:
        await self.rest.call(
            "PATCH",
            f"/repos/{repo}/issues/comments/{comment_id}",
            what=f"editing comment repo={repo} comment={comment_id}",
            json={"body": body},
        )

    async def react(self, repo: str, comment_id: int, content: Reaction) -> None:
        await self.rest.call(
            "POST",
            f"/repos/{repo}/issues/comments/{comment_id}/reactions",
            what=f"reacting {content} repo={repo} comment={comment_id}",
            json={"content": content},
        )

    async def bot_reactions(self, repo: str, comment_id: int) -> frozenset[Reaction]:
        items = await self.rest.pages(
            f"/repos/{repo}/issues/comments/{comment_id}/reactions",
            what=f"listing reactions repo={repo} comment={comment_id}",
        )
        bot = await self.session.identity.login()
        return frozenset(i["content"] for i in items if _login(i) == bot)


class GitHubIssues:
    """``Issues`` the bot opens about a repository (an invalid configuration)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rest = session.rest

    async def list_open_by_bot(self, repo: str, *, label: str = "") -> tuple[Issue, ...]:
        bot = await self.session.identity.login()
        params = {"state": "open", "creator": bot} | ({"labels": label} if label else {})
        items = await self.rest.pages(
            f"/repos/{repo}/issues",
            what=f"listing the bot's open issues repo={repo} label={label}",
            params=params,
        )
        return tuple(
            Issue(i["number"], i["title"], i.get("body") or "", _login(i) == bot)
            for i in items
            if "pull_request" not in i
        )

    async def newest_by_bot(self, repo: str, *, label: str) -> Issue | None:
        bot = await self.session.identity.login()
        params = {"state": "all", "creator": bot, "labels": label, "sort": "created"}
        response = await self.rest.call(
            "GET",
            f"/repos/{repo}/issues",
            what=f"finding the bot's issue repo={repo} label={label}",
            params={**params, "direction": "desc", "per_page": 10},
        )
        for i in response.json():
            if "pull_request" not in i and _login(i) == bot:
                return Issue(
                    i["number"], i["title"], i.get("body") or "", True, i["state"] == "open"
                )
        return None

    async def open(self, repo: str, *, title: str, body: str, labels: Sequence[str]) -> int:
        response = await self.rest.call(
            "POST",
            f"/repos/{repo}/issues",
            what=f"opening issue repo={repo}",
            json={"title": title, "body": body, "labels": list(labels)},
        )
        number: int = response.json()["number"]
        return number

    async def edit(self, repo: str, number: int, *, title: str, body: str) -> None:
        await self._patch(repo, number, "editing", {"title": title, "body": body})

    async def close(self, repo: str, number: int) -> None:
        await self._patch(repo, number, "closing", {"state": "closed", "state_reason": "completed"})

    async def reopen(self, repo: str, number: int) -> None:
        await self._patch(repo, number, "reopening", {"state": "open"})

    async def _patch(self, repo: str, number: int, doing: str, fields: dict[str, str]) -> None:
        await self.rest.call(
            "PATCH",
            f"/repos/{repo}/issues/{number}",
            what=f"{doing} issue repo={repo} number={number}",
            json=fields,
        )


class GitHubChecks:
    """``Checks``: one ``POST check-runs`` per report."""

    def __init__(self, session: Session) -> None:
        self.rest = session.rest

    async def create(self, repo: str, run: CheckRunSpec) -> int:
        response = await self.rest.call(
            "POST",
            f"/repos/{repo}/check-runs",
            what=f"reporting check run repo={repo} name={run.name} sha={run.head_sha}",
            json=check_run_body(run),
        )
        run_id: int = response.json()["id"]
        return run_id


def check_run_body(run: CheckRunSpec) -> dict[str, Any]:
    output: dict[str, str] = {"title": run.title, "summary": run.summary}
    if run.text:
        output["text"] = run.text
    body: dict[str, Any] = {
        "name": run.name,
        "head_sha": run.head_sha,
        "status": run.status,
        "output": output,
    }
    if run.conclusion is not None:
        body["conclusion"] = run.conclusion
    if run.actions:
        body["actions"] = [
            {"label": a.label, "description": a.description, "identifier": a.identifier}
            for a in run.actions
        ]
    return body


def _login(item: Any) -> str:
    return str((item.get("user") or {}).get("login", ""))
