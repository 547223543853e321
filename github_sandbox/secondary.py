"""Secondary rate limits: GitHub's documented figures, per credential, on the sandbox clock.

Docs "Rate limits for the REST API", "About secondary rate limits" (subject to change):

- no more than 100 concurrent requests;
- no more than 900 points per minute for REST endpoints, where GET, HEAD and OPTIONS cost 1
  point and POST, PATCH, PUT and DELETE cost 5;
- no more than 80 content-generating requests per minute and no more than 500 per hour.

A request over one of them is refused (403, or 429) with "You have exceeded a secondary rate
limit", without ``retry-after`` and with ``x-ratelimit-remaining`` above 0: the case where the
docs say "wait for at least one minute before retrying". Every write (POST, PATCH, PUT, DELETE)
counts as content-generating. A refused request counts nothing; windows slide over the sandbox
clock, and ``window_scale`` shortens both (tests compress time with it, as the bot's pace does).
Off unless configured (``--secondary-limits`` or ``PUT /_sandbox/secondary-limits``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from pydantic import BaseModel, Field

from github_sandbox.clock import SandboxClock
from github_sandbox.errors import GitHubError

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
WRITE_POINTS = 5
READ_POINTS = 1
MINUTE_S = 60.0
HOUR_S = 3600.0
DOCUMENTATION_URL = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)

MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)

LimitReason = Literal["concurrent", "points", "content_minute", "content_hour"]


class SecondaryFigures(BaseModel):
    """The limits a credential lives under; GitHub's figures by default."""

    enabled: bool = True
    concurrent: int = Field(default=100, ge=1)
    points_per_minute: int = Field(default=900, ge=1)
    content_per_minute: int = Field(default=80, ge=1)
    content_per_hour: int = Field(default=500, ge=1)
    window_scale: float = Field(default=1.0, gt=0.0)
    status: Literal[403, 429] = 403

    @property
    def minute(self) -> float:
        return MINUTE_S * self.window_scale

    @property
    def hour(self) -> float:
        return HOUR_S * self.window_scale


OFF = SecondaryFigures(enabled=False)


class _Credential:
    """One credential's requests in flight and its recent points and writes (time, weight)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.points: deque[tuple[float, int]] = deque()
        self.points_sum = 0
        self.writes: deque[float] = deque()


class SecondaryLimits:
    def __init__(self, clock: SandboxClock, figures: SecondaryFigures = OFF) -> None:
        self._clock = clock
        self.figures = figures
        self._credentials: dict[str, _Credential] = {}
        self._lock = threading.Lock()

    def configure(self, figures: SecondaryFigures) -> None:
        """New figures; what each credential spent so far is forgotten."""
        with self._lock:
            self.figures = figures
            self._credentials.clear()

    @contextmanager
    def admit(self, bucket: str, method: str) -> Iterator[None]:
        """Hold one of ``bucket``'s concurrent slots while the request is served, having spent
        its points and (for a write) its content budget; ``SecondaryLimitHit`` when over."""
        self._enter(bucket, method.upper())
        try:
            yield
        finally:
            with self._lock:
                credential = self._credentials.get(bucket)
                if credential is not None:
                    credential.in_flight = max(credential.in_flight - 1, 0)

    def _enter(self, bucket: str, method: str) -> None:
        figures = self.figures
        with self._lock:
            credential = self._credentials.setdefault(bucket, _Credential())
            if not figures.enabled:
                credential.in_flight += 1
                return
            now = self._clock.now()
            self._expire(credential, now, figures)
            write = method in WRITE_METHODS
            cost = WRITE_POINTS if write else READ_POINTS
            minute_writes = sum(1 for at in credential.writes if at > now - figures.minute)
            reason: LimitReason | None = None
            if credential.in_flight >= figures.concurrent:
                reason = "concurrent"
            elif credential.points_sum + cost > figures.points_per_minute:
                reason = "points"
            elif write and minute_writes >= figures.content_per_minute:
                reason = "content_minute"
            elif write and len(credential.writes) >= figures.content_per_hour:
                reason = "content_hour"
            if reason is not None:
                raise SecondaryLimitHit(reason, figures.status)
            credential.in_flight += 1
            credential.points.append((now, cost))
            credential.points_sum += cost
            if write:
                credential.writes.append(now)

    @staticmethod
    def _expire(credential: _Credential, now: float, figures: SecondaryFigures) -> None:
        while credential.points and credential.points[0][0] <= now - figures.minute:
            credential.points_sum -= credential.points.popleft()[1]
        while credential.writes and credential.writes[0] <= now - figures.hour:
            credential.writes.popleft()


class SecondaryLimitHit(GitHubError):
    """GitHub's answer to a request over a secondary limit; ``reason`` says which one."""

    def __init__(self, reason: LimitReason, status: int = 403) -> None:
        super().__init__(status, MESSAGE, documentation_url=DOCUMENTATION_URL)
        self.reason = reason
