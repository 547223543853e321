"""The redelivery sweeper: GitHub never retries a failed webhook delivery, so the bot asks for it.

Each sweep lists the app's deliveries since the last sweep (``GET /app/hook/deliveries``, app
JWT, newest first, cursor pagination), groups the attempts by GUID and redelivers the newest
attempt of every GUID that has no ``OK`` attempt (``POST /app/hook/deliveries/{id}/attempts``),
unless the bot holds that GUID already (``received``): stored, but answered after GitHub gave up
waiting, or posted again by an operator replaying an outage. The intake dedupes by GUID, so a
redelivery of something that did arrive would be harmless, but it costs a request, and GitHub
sends the deliveries of one App one after another. The last-run time is kept in a small file so
a restart does not sweep the whole window again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException
from githubkit.typing import Missing
from githubkit.utils import UNSET
from githubkit_schemas.latest.models import HookDeliveryItem

from bot.adapters.metrics import github_response_hook, record_redelivery
from bot.settings import Settings

log = logging.getLogger("bot.redelivery")

# github.com keeps deliveries 3 days (GHES 7): older ones can no longer be redelivered.
GITHUB_WINDOW = timedelta(days=3)
PER_PAGE = 100
SWEEP_INTERVAL = timedelta(minutes=30)
# At most this many redeliveries per sweep: a long outage must not become a burst of hundreds.
MAX_PER_SWEEP = 100


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt as GitHub lists it."""

    id: int
    guid: str
    delivered_at: datetime
    status: str
    event: str

    @property
    def ok(self) -> bool:
        return self.status == "OK"


@dataclass(frozen=True)
class SweepResult:
    since: datetime
    listed: int
    redelivered: tuple[Attempt, ...]
    failed: tuple[Attempt, ...]
    received: int = 0  # GUIDs without an OK attempt the bot holds: not asked for again


def to_redeliver(attempts: Iterable[Attempt]) -> list[Attempt]:
    """The newest attempt of each GUID that has no OK attempt, oldest GUID first.

    ``pending`` attempts are still in flight at GitHub: their GUID is left for the next sweep.
    """
    by_guid: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_guid.setdefault(attempt.guid, []).append(attempt)
    chosen = [
        max(group, key=lambda a: (a.delivered_at, a.id))
        for group in by_guid.values()
        if not any(a.ok or a.status == "pending" for a in group)
    ]
    return sorted(chosen, key=lambda a: (a.delivered_at, a.id))


class LastRunFile:
    """The time the last successful sweep started, as one ISO line in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> datetime | None:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            log.warning("ignoring unreadable sweeper state path=%s", self.path)
            return None

    def write(self, when: datetime) -> None:
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(when.isoformat() + "\n")
        os.replace(partial, self.path)  # a crash leaves the old time, never half a line


def _next_cursor(response: httpx.Response) -> str | None:
    url = response.links.get("next", {}).get("url")
    if url is None:
        return None
    cursor = parse_qs(urlsplit(url).query).get("cursor")
    return cursor[0] if cursor else None


def _attempt(item: HookDeliveryItem) -> Attempt:
    when = item.delivered_at
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return Attempt(item.id, item.guid, when, item.status, item.event)


# Whether the bot holds a delivery of this GUID (its queue's deliveries, by ``X-GitHub-Delivery``).
Received = Callable[[str], Awaitable[bool]]


class RedeliverySweeper:
    """Sweeps one app's failed deliveries with ``github``, a client authenticated as the app."""

    def __init__(
        self,
        github: GitHub[Any],
        state: LastRunFile,
        *,
        window: timedelta = GITHUB_WINDOW,
        limit: int = MAX_PER_SWEEP,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        received: Received | None = None,
    ) -> None:
        self.github = github
        self.state = state
        self.window = window
        self.limit = limit
        self.clock = clock
        self.received = received

    async def list_attempts(
        self, since: datetime, status: Literal["success", "failure"] | None = None
    ) -> list[Attempt]:
        """Every attempt delivered at or after ``since``, newest first."""
        found: list[Attempt] = []
        cursor: Missing[str] = UNSET
        while True:
            response = await self.github.rest.apps.async_list_webhook_deliveries(
                per_page=PER_PAGE, cursor=cursor, status=status or UNSET
            )
            page = [_attempt(item) for item in response.parsed_data]
            found += [a for a in page if a.delivered_at >= since]
            next_cursor = _next_cursor(response.raw_response)
            if not page or page[-1].delivered_at < since or next_cursor is None:
                return found
            cursor = next_cursor

    async def sweep(self) -> SweepResult:
        """One sweep; the last-run time moves on only when the listing succeeded."""
        started = self.clock()
        since = max(self.state.read() or started - self.window, started - self.window)
        # The common case is no failure at all: one filtered page says so.
        if not await self.list_attempts(since, status="failure"):
            self.state.write(started)
            return SweepResult(since, 0, (), ())
        attempts = await self.list_attempts(since)
        failing = to_redeliver(attempts)
        wanted = [a for a in failing if self.received is None or not await self.received(a.guid)]
        if len(wanted) > self.limit:
            log.warning("redelivering the oldest limit=%d of failed=%d", self.limit, len(wanted))
        done: list[Attempt] = []
        failed: list[Attempt] = []
        for attempt in wanted[: self.limit]:
            (done if await self._redeliver(attempt) else failed).append(attempt)
        self.state.write(started)
        received = len(failing) - len(wanted)
        result = SweepResult(since, len(attempts), tuple(done), tuple(failed), received)
        log.info(
            "swept deliveries since=%s listed=%d redelivered=%d failed=%d received_already=%d",
            since.isoformat(),
            result.listed,
            len(result.redelivered),
            len(result.failed),
            received,
        )
        return result

    async def _redeliver(self, attempt: Attempt) -> bool:
        try:
            await self.github.rest.apps.async_redeliver_webhook_delivery(attempt.id)
        except GitHubException as err:
            log.warning(
                "redelivering failed delivery_id=%s guid=%s event=%s: %s",
                attempt.id,
                attempt.guid,
                attempt.event,
                err,
                extra={"delivery_id": attempt.guid, "event": attempt.event},
            )
            record_redelivery("failed")
            return False
        log.info(
            "asked for redelivery delivery_id=%s guid=%s event=%s status=%s",
            attempt.id,
            attempt.guid,
            attempt.event,
            attempt.status,
            extra={"delivery_id": attempt.guid, "event": attempt.event},
        )
        record_redelivery("requested")
        return True


def sweeper_from_settings(
    settings: Settings, received: Received | None = None
) -> RedeliverySweeper:
    """A sweeper with its own App-JWT client; its last-run file sits beside the queue file.
    ``received``: the GUIDs the bot holds, which it does not ask for again."""
    if settings.app_id is None:
        raise ValueError("building the redelivery sweeper needs PROMOTION_BOT_APP_ID")
    if settings.private_key is not None:
        key = settings.private_key.get_secret_value()
    elif settings.private_key_file is not None:
        key = settings.private_key_file.read_text()
    else:
        raise ValueError("building the redelivery sweeper needs PROMOTION_BOT_PRIVATE_KEY(_FILE)")
    github = GitHub(
        AppAuthStrategy(settings.app_id, key),
        base_url=settings.github_url,
        # Its own cache: the default one is process-global and keyed by app id only.
        cache_strategy=MemCacheStrategy(),
        # A failed sweep is simply tried again at the next interval; no inline waiting.
        auto_retry=False,
        http_cache=False,
        timeout=settings.request_timeout,
        event_hooks={"response": [github_response_hook()]},
    )
    state = settings.queue_path.with_name(settings.queue_path.name + ".redelivery-last-run")
    return RedeliverySweeper(github, LastRunFile(state), received=received)
