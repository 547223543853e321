"""The githubkit plumbing: the retry decision, a pooled transport, and one request helper that
turns GitHub's failures into the ports' errors.

Handlers never sleep long: a 5xx is retried inline a few times with a short backoff, and a
primary rate limit is waited out inline only when GitHub asks for a few seconds at most. A longer
wait surfaces as ``RetryLater`` so the queue re-schedules the job (and holds back its
installation) while other installations go on. A secondary rate limit is never retried inline:
it waits at least a minute, doubling on repeats for the same installation up to 15 minutes, and
the count starts again after a success. Content-creating requests (POST, PATCH, PUT, DELETE) are
paced per installation under GitHub's figures (``WritePace``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from contextlib import AsyncExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import httpx
from githubkit import BaseAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)
from githubkit.response import Response
from githubkit.retry import RetryOption

from bot.adapters.github_pacing import (
    SECONDARY_WAIT,
    SECONDARY_WAIT_CAP,
    WRITE_METHODS,
    SecondaryBackoff,
    WriteBudget,
    WritePace,
)
from bot.adapters.metrics import observe_github_response
from bot.services.github_ports import GitHubError, NotFound, Repository, Tree
from bot.services.ports import RetryLater

# Pinned so a new default version on GitHub's side cannot change the shapes we read; the oldest
# supported version, because GHES servers lag github.com.
API_VERSION = "2022-11-28"
PER_PAGE = 100
A = TypeVar("A", bound=BaseAuthStrategy)
K = TypeVar("K")
V = TypeVar("V")


class AccessDenied(GitHubError):
    """GitHub refused the credentials (401) or the permission (403) for an operation."""


@dataclass(frozen=True)
class RetryDecision:
    """githubkit's ``auto_retry``: short, bounded inline retries only.

    5xx answers are retried ``server_retries`` times after ``backoff * 2**n``, except POSTs
    outside the Git Data API (a retried comment or PR could be created twice); git objects are
    content-addressed, so repeating their POST is harmless. A primary rate limit is retried once
    when its wait is at most ``max_inline_wait``; a secondary limit never (retrying into it
    risks a ban). Otherwise githubkit raises and ``Rest`` maps it to ``RetryLater``.
    """

    server_retries: int = 2
    backoff: timedelta = timedelta(milliseconds=200)
    max_inline_wait: timedelta = timedelta(seconds=3)

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if isinstance(exc, SecondaryRateLimitExceeded):
            return RetryOption(False)
        if isinstance(exc, RateLimitExceeded):
            wait = exc.retry_after
            return RetryOption(retry_count < 1 and wait <= self.max_inline_wait, wait)
        if isinstance(exc, RequestFailed) and exc.response.status_code >= 500:
            request = exc.request
            repeatable = request.method != "POST" or "/git/" in request.url.path
            if repeatable and retry_count < self.server_retries:
                return RetryOption(True, self.backoff * 2**retry_count)
        return RetryOption(False)


class SharedTransport(httpx.AsyncBaseTransport):
    """One connection pool for every client githubkit opens.

    Per-installation clients (``with_auth``) are not entered as context managers, so githubkit
    opens and closes an httpx client per request; closing must not close the pool they share.
    The gateway calls ``close`` once, at shutdown.

    Git objects (blobs, trees) are immutable by sha and kept by the adapters' byte-bounded
    ``Lru``; their answers are marked ``no-store`` so githubkit's HTTP cache (above this
    transport, unbounded) keeps no second copy.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=50))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if _GIT_OBJECT.search(request.url.path):
            response.headers["cache-control"] = "no-store"
        return response

    async def aclose(self) -> None:
        """Kept open: a client closing after one request does not own the pool."""

    async def close(self) -> None:
        await self.inner.aclose()


# Writes a job reserved (``Rest.reserve``), per job: each job runs in a task of its own, which
# copies the context, so one job's reservation is never spent by another's writes.
_RESERVED: ContextVar[tuple[int, int]] = ContextVar("reserved_writes", default=(0, 0))

_GIT_OBJECT = re.compile(r"/git/(?:blobs|trees)/[0-9a-f]{40}$")


class Lru(Generic[K, V]):
    """A least-recently-used map for immutable things (trees, blobs by sha), bounded by the
    total ``weigh`` of its values (bytes, or an estimate of them; 1 each by default). A value
    heavier than the whole capacity is not kept."""

    def __init__(self, capacity: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self.capacity = capacity
        self.weight = 0
        self._weigh = weigh
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: K, value: V) -> None:
        weight = self._weigh(value)
        old = self._items.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        if weight > self.capacity:
            return
        self._items[key] = (value, weight)
        self.weight += weight
        while self.weight > self.capacity:
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped


# What the caches of immutable git objects hold at most: blobs by their bytes, trees by their
# entries (a path, a sha and a mode: a few hundred bytes each in memory).
BLOB_CACHE_BYTES = 64 << 20
TREE_CACHE_ENTRIES = 200_000


def git_caches() -> tuple[Lru[str, Tree], Lru[str, bytes]]:
    """Empty caches of trees and blobs (by sha), bounded as above."""
    trees: Lru[str, Tree] = Lru(TREE_CACHE_ENTRIES, weigh=lambda tree: len(tree.blobs))
    blobs: Lru[str, bytes] = Lru(BLOB_CACHE_BYTES, weigh=len)
    return trees, blobs


class Rest:
    """REST calls of one client with the API version pinned and errors mapped.

    ``what`` names the operation with key=value context; it starts every error message. Every
    answer, error or not, is counted in the metrics under ``installation_id`` (None: the App).
    Writes are paced by ``pace`` (a write past its budget raises ``RetryLater`` unsent), and a
    secondary limit waits as ``backoff`` says: longer on each one in a row.
    """

    def __init__(
        self,
        github: GitHub[Any],
        installation_id: int | None = None,
        *,
        pace: WriteBudget | None = None,
    ) -> None:
        self.github = github
        self.installation_id = installation_id
        self.pace = pace or WritePace()
        # Time compressed for tests (``window_scale``) shortens the waits after a secondary
        # limit as it shortens the windows of the pace.
        scale = self.pace.window_scale
        self.backoff = SecondaryBackoff(SECONDARY_WAIT * scale, SECONDARY_WAIT_CAP * scale)

    async def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: Collection[int] = (),
    ) -> Response[Any]:
        """One request; a status in ``accept`` is returned instead of raised."""
        if method.upper() in WRITE_METHODS and not self._reserved():
            await self._pace(1, what)
        try:
            response = await self.github.arequest(
                method,
                path,
                params=dict(params or {}),
                json=json,
                headers={"X-GitHub-Api-Version": API_VERSION},
            )
        except RequestFailed as err:
            observe_github_response(err.response.raw_response, self.installation_id)
            if err.response.status_code in accept:
                self.backoff.reset()
                return err.response
            raise self._mapped(err, what) from err
        except GitHubException as err:
            raise self._mapped(err, what) from err
        observe_github_response(response.raw_response, self.installation_id)
        self.backoff.reset()
        return response

    async def reserve(self, count: int, what: str) -> None:
        """Take ``count`` writes of the installation's budget for the job that runs now (its
        next ``count`` writes are sent without waiting), or raise ``RetryLater`` before any of
        them: a job that would be stopped half-way by the pace would redo its writes when it
        runs again (a new tree and commit each time)."""
        await self._pace(count, what)
        _RESERVED.set((id(self), min(count, self.pace.per_minute)))

    def _reserved(self) -> bool:
        """Spend one write reserved by this job, if it has one left."""
        owner, left = _RESERVED.get()
        if owner != id(self) or left <= 0:
            return False
        _RESERVED.set((owner, left - 1))
        return True

    async def _pace(self, count: int, what: str) -> None:
        wait = await self.pace.spend(count)
        if wait is not None:
            raise RetryLater(
                wait,
                f"pacing content-creating requests installation_id={self.installation_id} "
                f"before {what}",
            )

    def _mapped(self, err: GitHubException, what: str) -> Exception:
        if not secondary_limit(err):
            return mapped_error(err, what)
        return mapped_error(err, what, secondary_wait=self.backoff.next_wait())

    async def json(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.call("GET", path, what=what, params=params)).json()

    async def pages(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        key: str | None = None,
        max_pages: int = 30,
        start: int = 1,
    ) -> list[Any]:
        """Every item of a paginated list from page ``start`` on (``key`` names the list inside
        a wrapping object), following ``Link: rel="next"`` for at most ``max_pages`` calls."""
        items: list[Any] = []
        for page in range(start, start + max_pages):
            query = {**(params or {}), "per_page": PER_PAGE, "page": page}
            response = await self.call("GET", path, what=what, params=query)
            data = response.json()
            items.extend(data[key] if key else data)
            if 'rel="next"' not in response.headers.get("link", ""):
                break
        return items


def mapped_error(
    err: GitHubException, what: str, *, secondary_wait: timedelta = SECONDARY_WAIT
) -> Exception:
    """The ports' error for a githubkit failure; the message starts with ``what``. A secondary
    limit waits at least ``secondary_wait`` (longer if GitHub's ``retry-after`` says so)."""
    err = _unwrapped(err)
    if secondary_limit(err):
        asked = err.retry_after if isinstance(err, RateLimitExceeded) else timedelta(0)
        return RetryLater(
            max(asked, secondary_wait), f"rate limited while {what} (secondary limit)"
        )
    if isinstance(err, RateLimitExceeded):
        return RetryLater(err.retry_after, f"rate limited while {what}")
    if isinstance(err, RequestFailed):
        status = err.response.status_code
        detail = f"{what} failed: status={status} message={_message(err.response)!r}"
        if status == 404:
            return NotFound(detail)
        if status in (401, 403):
            return AccessDenied(detail)
        return GitHubError(detail)
    if isinstance(err, RequestTimeout):
        return GitHubError(f"{what} failed: timed out")
    if isinstance(err, RequestError):
        return GitHubError(f"{what} failed: {type(err.exc).__name__}: {err.exc}")
    return GitHubError(f"{what} failed: {type(err).__name__}: {err}")


def secondary_limit(err: GitHubException) -> bool:
    """GitHub's secondary rate limit: a 429, a 403 with ``retry-after``, or a 403 whose message
    says so ("You have exceeded a secondary rate limit"), which githubkit raises as a plain
    failure when ``x-ratelimit-remaining`` is above 0. Other 403s are permissions (or the
    workflow-file refusal), not limits."""
    err = _unwrapped(err)
    if isinstance(err, SecondaryRateLimitExceeded):
        return True
    if not isinstance(err, RequestFailed):
        return False
    response = err.response
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    return "retry-after" in response.headers or "secondary rate limit" in _message(response).lower()


def _unwrapped(err: GitHubException) -> GitHubException:
    if isinstance(err, RequestError) and isinstance(err.exc, GitHubException):
        return err.exc  # failed inside the auth flow: creating the installation token
    return err


def _message(response: Response[Any]) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", "")) if isinstance(body, dict) else ""


class AppIdentity:
    """The App's own account (``SLUG[bot]``), read once with the App's JWT (``GET /app``)."""

    def __init__(self, app: Rest, login: str | None = None) -> None:
        self._app = app
        self._login = login

    @property
    def known(self) -> str:
        """The login if already read, else ``""``."""
        return self._login or ""

    async def login(self) -> str:
        if self._login is None:
            data = await self._app.json("/app", what="reading the app's identity")
            self._login = f"{data['slug']}[bot]"
        return self._login


@dataclass
class Session:
    """What the adapters of one installation share: its client, the App's identity, the
    caches of immutable git objects (shared by every installation: keyed by sha), the
    installation's repository list (kept until ``forget_repositories``) and whether each
    package owner is an organization or a user."""

    rest: Rest
    identity: AppIdentity
    trees: Lru[str, Tree]
    blobs: Lru[str, bytes]
    repositories: tuple[Repository, ...] | None = None
    package_scopes: dict[str, str] = field(default_factory=dict)  # owner -> "orgs" or "users"


class GitHubPace:
    """``Pace`` over one installation's session: reservations on its write budget."""

    def __init__(self, session: Session) -> None:
        self.rest = session.rest

    async def reserve(self, count: int) -> None:
        await self.rest.reserve(count, f"{count} writes reserved")


class OwnedClient(Generic[A]):
    """A githubkit client a gateway owns, with its own connection pool and HTTP cache
    (githubkit's default cache is global, and two gateways' tokens must not mix): opened and
    closed with the gateway."""

    def __init__(
        self,
        auth: A,
        *,
        base_url: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryDecision | None,
        http_cache: bool = True,
    ) -> None:
        self.transport = SharedTransport(transport)
        self.github: GitHub[A] = GitHub(
            auth,
            base_url=base_url,
            timeout=timeout,
            async_transport=self.transport,
            cache_strategy=MemCacheStrategy(),
            http_cache=http_cache,
            auto_retry=retry or RetryDecision(),
        )
        self._stack = AsyncExitStack()

    async def open(self) -> None:
        await self._stack.enter_async_context(self.github)

    async def close(self) -> None:
        await self._stack.aclose()
        await self.transport.close()
