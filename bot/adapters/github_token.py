"""``TokenGateway``: ``GitHubPorts`` over a plain token (``GITHUB_TOKEN`` in GitHub Actions, a
personal token), for reading a few named repositories without the App's credentials.

The same adapters as ``GitHubGateway``'s, over one ``Session``; two things differ because a
token is not an installation:

- ``Installation.repositories()`` answers the repositories named up front (``GET
  /repos/{owner}/{name}`` each), not ``GET /installation/repositories``;
- the bot's login cannot be read (``GET /app`` wants the App's JWT): it is given, so the PRs and
  issues the bot opened are still told apart from everyone else's (``by_bot``)::

    async with TokenGateway(token, bot_login="promotion-bot[bot]") as gateway:
        ports = gateway.ports("acme/gitops")
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self

import httpx
from githubkit import GitHub, TokenAuthStrategy

from bot.adapters.github import ports_over, web_url_of
from bot.adapters.github_client import (
    AppIdentity,
    OwnedClient,
    Rest,
    RetryDecision,
    Session,
    git_caches,
)
from bot.services.github_ports import GitHubPorts, NotFound, Repository
from bot.settings import Settings

# Read in this order; the first one set (and not empty) is the token.
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
DEFAULT_BOT_LOGIN = "promotion-bot[bot]"


def token_from_environment(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(variable, token)`` of the first of ``TOKEN_VARIABLES`` set, or ``None``."""
    for name in TOKEN_VARIABLES:
        token = environ.get(name, "").strip()
        if token:
            return name, token
    return None


class TokenInstallation:
    """``Installation`` for a token: the named repositories it can read, read once. A
    repository the token cannot see is left out (as an App's installation leaves out the
    repositories it was not granted); ``repository`` says why for one."""

    def __init__(self, session: Session, names: tuple[str, ...]) -> None:
        self.rest = session.rest
        self.names = names
        self._found: tuple[Repository, ...] | None = None

    async def repositories(self) -> tuple[Repository, ...]:
        if self._found is None:
            found = []
            for name in dict.fromkeys(self.names):
                try:
                    found.append(await self.repository(name))
                except NotFound:
                    continue
            self._found = tuple(found)
        return self._found

    async def repository(self, name: str) -> Repository:
        """``GET /repos/{owner}/{name}``; ``NotFound`` when the token cannot see it."""
        data = await self.rest.json(f"/repos/{name}", what=f"reading repository repo={name}")
        return Repository(data["full_name"], data["default_branch"], bool(data.get("archived")))

    def forget_repositories(self) -> None:
        self._found = None


class TokenGateway:
    """``GitHubPorts`` over one token; use it as an async context manager."""

    def __init__(
        self,
        token: str,
        *,
        bot_login: str = DEFAULT_BOT_LOGIN,
        base_url: str = "https://api.github.com",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryDecision | None = None,
    ) -> None:
        self.base_url = base_url
        self.web_url = web_url_of(base_url)
        self.bot_login = bot_login
        self._client = OwnedClient(
            TokenAuthStrategy(token),
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            retry=retry,
        )
        self.github: GitHub[TokenAuthStrategy] = self._client.github
        rest = Rest(self.github)
        # The login is given, so ``login()`` never asks ``GET /app`` (a token cannot).
        identity = AppIdentity(rest, login=bot_login)
        self.session = Session(rest, identity, *git_caches())

    @classmethod
    def from_settings(cls, settings: Settings, token: str, *, bot_login: str) -> Self:
        """The gateway for ``token`` on the GitHub the settings name (``github_url``)."""
        return cls(
            token,
            bot_login=bot_login,
            base_url=settings.github_url,
            timeout=settings.request_timeout,
        )

    async def __aenter__(self) -> Self:
        await self._client.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._client.close()

    def ports(self, *repos: str) -> GitHubPorts:
        """The ports over the token, its ``installation`` answering ``repos``."""
        installation = TokenInstallation(self.session, repos)
        return ports_over(
            self.session, installation, web_url=self.web_url, bot_login=self.bot_login
        )
