"""GitHub-facing ports for what the bot says and whom it answers: comments and their reactions,
the issues it opens (config errors, holds), check runs, and people's access.

Part of the ports of ``bot.services.github_ports`` (``GitHubPorts`` holds one of each); the same
rules hold: adapters never sleep, ``RetryLater`` on rate limits, ``GitHubError`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal[
    "action_required", "cancelled", "failure", "neutral", "skipped", "success", "timed_out"
]


@dataclass(frozen=True)
class Comment:
    """An issue or pull-request comment."""

    id: int
    body: str
    by_bot: bool


@dataclass(frozen=True)
class Issue:
    """An issue (never a pull request)."""

    number: int
    title: str
    body: str
    by_bot: bool
    open: bool = True


Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]


@dataclass(frozen=True)
class CheckAction:
    """A button on a completed check run (label <= 20, description <= 40, identifier <= 20)."""

    label: str
    description: str
    identifier: str


@dataclass(frozen=True)
class CheckRunSpec:
    """A check run to report on a commit; ``conclusion`` only when ``status`` is completed."""

    name: str
    head_sha: str
    status: CheckStatus
    title: str
    summary: str
    conclusion: CheckConclusion | None = None
    text: str = ""
    actions: tuple[CheckAction, ...] = ()


class Comments(Protocol):
    """Comments on issues and pull requests; the use cases find the bot's own comment by its
    hidden metadata and update it in place."""

    async def list(self, repo: str, number: int) -> tuple[Comment, ...]:
        """The comments on issue or PR ``number``, oldest first: ``GET issues/{n}/comments``,
        ``per_page=100``, one call per 100 comments."""

    async def create(self, repo: str, number: int, body: str) -> int:
        """Post a comment, return its id: one call, ``POST issues/{number}/comments``."""

    async def edit(self, repo: str, comment_id: int, body: str) -> None:
        """Replace a comment's body: one call, ``PATCH issues/comments/{comment_id}``."""

    async def react(self, repo: str, comment_id: int, content: Reaction) -> None:
        """React to a comment: one call, ``POST issues/comments/{comment_id}/reactions`` (GitHub
        answers 200 instead of 201 when the same reaction is there already)."""

    async def bot_reactions(self, repo: str, comment_id: int) -> frozenset[Reaction]:
        """The reactions the bot's own account left on a comment: ``GET issues/comments/
        {comment_id}/reactions?per_page=100``, one call per 100."""


class People(Protocol):
    """What GitHub says about a person's access, read fresh for every command."""

    async def role(self, repo: str, login: str) -> tuple[str, str]:
        """``(role_name, permission)`` of ``login`` on ``repo``: one call, ``GET collaborators/
        {login}/permission``. ``role_name`` includes team, organisation and enterprise grants;
        someone GitHub does not know there has ``("none", "none")``."""

    async def team_member(self, org: str, team: str, login: str) -> bool:
        """Whether ``login`` is an active member of ``org/team``: one call, ``GET orgs/{org}/
        teams/{team}/memberships/{login}``. ``pending`` (invited, not accepted) is not a member;
        a 404 (no such team or membership, or a team the App cannot see) is not either."""


class Issues(Protocol):
    """Issues the bot opens (an invalid configuration)."""

    async def list_open_by_bot(self, repo: str, *, label: str = "") -> tuple[Issue, ...]:
        """Open issues (not PRs) created by the App's account, only those with ``label`` when
        given: ``GET issues?state=open&creator=BOT_LOGIN&labels=LABEL&per_page=100``, one call
        per 100; pull requests in the answer are dropped. The HTTP cache makes it conditional:
        an unchanged answer is a 304, which costs no rate limit."""

    async def newest_by_bot(self, repo: str, *, label: str) -> Issue | None:
        """The issue (open or closed) with ``label`` the App's account created last: one call,
        ``GET issues?state=all&creator=BOT&labels=LABEL&sort=created``; a 304 when unchanged."""

    async def open(self, repo: str, *, title: str, body: str, labels: Sequence[str]) -> int:
        """Open an issue, return its number: one call, ``POST issues``."""

    async def edit(self, repo: str, number: int, *, title: str, body: str) -> None:
        """Replace an issue's title and body: one call, ``PATCH issues/{number}``."""

    async def close(self, repo: str, number: int) -> None:
        """Close an issue as completed: one call, ``PATCH issues/{number}`` with
        ``state=closed, state_reason=completed``."""

    async def reopen(self, repo: str, number: int) -> None:
        """Reopen a closed issue: one call, ``PATCH issues/{number}`` with ``state=open``."""


class Checks(Protocol):
    """Check runs on commits."""

    async def create(self, repo: str, run: CheckRunSpec) -> int:
        """Report a check run on ``run.head_sha``, return its id: one call, ``POST check-runs``
        (GitHub shows the newest run of a name per commit, so no lookup is needed)."""
