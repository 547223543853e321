"""People: a person's role on a repository and their team memberships, read for every command."""

from __future__ import annotations

from bot.adapters.github_client import Session


class GitHubPeople:
    """``People``: never cached, so a revoked grant is refused on the next command."""

    def __init__(self, session: Session) -> None:
        self.rest = session.rest

    async def role(self, repo: str, login: str) -> tuple[str, str]:
        response = await self.rest.call(
            "GET",
            f"/repos/{repo}/collaborators/{login}/permission",
            what=f"reading permission repo={repo} login={login}",
            accept=(404,),
        )
        if response.status_code == 404:
            return "none", "none"
        data = response.json()
        return str(data.get("role_name") or "none"), str(data.get("permission") or "none")

    async def team_member(self, org: str, team: str, login: str) -> bool:
        response = await self.rest.call(
            "GET",
            f"/orgs/{org}/teams/{team}/memberships/{login}",
            what=f"reading team membership team={org}/{team} login={login}",
            accept=(404,),
        )
        return response.status_code == 200 and response.json().get("state") == "active"
