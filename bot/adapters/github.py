"""The GitHub adapter: ``GitHubGateway`` builds each installation's ``GitHubPorts`` with githubkit.

One ``GitHub`` client per process authenticates as the App (JWT); each installation gets a
client from ``with_auth(auth.as_installation(id))``, whose token githubkit caches until shortly
before it expires. All clients share one connection pool, one HTTP cache (ETags: a 304 costs no
rate limit) and the caches of immutable git objects. Use it as an async context manager for
the life of the process::

    async with GitHubGateway.from_settings(settings) as gateway:
        router, services = build_router(gateway.ports_for, clock, queue)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import httpx
from githubkit import AppAuthStrategy, GitHub

from bot.adapters.github_client import (
    AppIdentity,
    GitHubPace,
    OwnedClient,
    Rest,
    RetryDecision,
    Session,
    git_caches,
)
from bot.adapters.github_git import GitHubGit, GitHubInstallation
from bot.adapters.github_issues import GitHubChecks, GitHubComments, GitHubIssues
from bot.adapters.github_pacing import SEND_MARGIN_S, WriteBudget, WritePace
from bot.adapters.github_people import GitHubPeople
from bot.adapters.github_pulls import GitHubPullRequests
from bot.adapters.github_sources import GitHubSources
from bot.adapters.pace_postgres import Connect, SharedWritePace
from bot.services.github_ports import GitHubError, GitHubPorts, Installation
from bot.services.ports import JobRejected
from bot.settings import Settings, SettingsError

log = logging.getLogger("bot.github")


def web_url_of(api_url: str) -> str:
    """GitHub's web root for an API root: github.com, a GHES host (``/api/v3``), or the sandbox
    (which serves both on one origin)."""
    url = api_url.rstrip("/")
    if url == "https://api.github.com":
        return "https://github.com"
    return url.removesuffix("/api/v3")


class GitHubGateway:
    """Per-installation ``GitHubPorts`` over one App client; ``ports_for`` is a ``PortsFactory``."""

    def __init__(
        self,
        *,
        app_id: int,
        private_key: str,
        base_url: str = "https://api.github.com",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryDecision | None = None,
        http_cache: bool = True,
        write_pace: Callable[[int], WriteBudget] = lambda _: WritePace(),
    ) -> None:
        self.base_url = base_url
        self._write_pace = write_pace
        self.web_url = web_url_of(base_url)
        self._client = OwnedClient(
            AppAuthStrategy(app_id, private_key),
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            retry=retry,
            http_cache=http_cache,
        )
        self.github: GitHub[AppAuthStrategy] = self._client.github
        self.identity = AppIdentity(Rest(self.github))
        self._trees, self._blobs = git_caches()
        self._sessions: dict[int, Session] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, shared_pace: Connect | None = None, **options: Any
    ) -> Self:
        """The gateway for the App the settings name (``app_id`` and its private key), pacing
        each installation's writes as the settings say (``writes_per_minute``...): in this
        process, or with ``shared_pace`` (connections to the PostgreSQL queue's database) in
        one budget per installation for every replica."""
        key = settings.private_key.get_secret_value() if settings.private_key else None
        if key is None and settings.private_key_file is not None:
            key = settings.private_key_file.read_text(encoding="utf-8")
        if settings.app_id is None or not key:
            raise SettingsError("the GitHub adapter needs PROMOTION_BOT_APP_ID and a private key")

        figures: dict[str, Any] = {
            "per_minute": settings.writes_per_minute,
            "per_hour": settings.writes_per_hour,
            "window_scale": settings.write_window_scale,
            "margin": SEND_MARGIN_S,
        }

        def write_pace(installation_id: int) -> WriteBudget:
            if shared_pace is not None:
                return SharedWritePace(shared_pace, installation_id, **figures)
            return WritePace(**figures)

        options.setdefault("write_pace", write_pace)
        return cls(
            app_id=settings.app_id,
            private_key=key,
            base_url=settings.github_url,
            timeout=settings.request_timeout,
            **options,
        )

    async def __aenter__(self) -> Self:
        await self._client.open()
        try:
            login = await self.identity.login()
        except GitHubError as err:
            # Not fatal: GitHub may be briefly away; the first job that needs it asks again.
            log.warning("reading the app's identity at start failed: %s", err)
        else:
            log.info("github gateway ready base_url=%s login=%s", self.base_url, login)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._client.close()

    async def installation_ids(self) -> tuple[int, ...]:
        """Every installation of the App (``GET /app/installations`` with the App's JWT): for
        events that name none, such as pushes to a registry outside GitHub."""
        items = await Rest(self.github).pages(
            "/app/installations", what="listing the app's installations"
        )
        return tuple(item["id"] for item in items)

    def session(self, installation_id: int) -> Session:
        """The installation's session, created on first use and kept for the process: its
        pace of writes and its backoff after secondary limits last as long."""
        session = self._sessions.get(installation_id)
        if session is None:
            client = self.github.with_auth(self.github.auth.as_installation(installation_id))
            rest = Rest(client, installation_id, pace=self._write_pace(installation_id))
            session = Session(rest, self.identity, self._trees, self._blobs)
            self._sessions[installation_id] = session
        return session

    def ports_for(self, installation_id: int | None) -> GitHubPorts:
        """The ports of one installation (a ``PortsFactory``)."""
        if installation_id is None:
            raise JobRejected("event came without an installation: no GitHub credentials for it")
        session = self.session(installation_id)
        installation = GitHubInstallation(session)
        return ports_over(
            session, installation, web_url=self.web_url, bot_login=self.identity.known
        )


def ports_over(
    session: Session, installation: Installation, *, web_url: str, bot_login: str
) -> GitHubPorts:
    """The ports over one session: an App installation's, or a plain token's (``TokenGateway``),
    which differ only in how ``installation`` lists repositories."""
    return GitHubPorts(
        installation=installation,
        git=GitHubGit(session),
        pulls=GitHubPullRequests(session),
        comments=GitHubComments(session),
        issues=GitHubIssues(session),
        checks=GitHubChecks(session),
        sources=GitHubSources(session),
        people=GitHubPeople(session),
        pace=GitHubPace(session),
        web_url=web_url,
        bot_login=bot_login,
    )
