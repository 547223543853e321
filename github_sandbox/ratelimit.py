"""Primary rate-limit budgets: one hourly window per caller, on the sandbox clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from github_sandbox.clock import SandboxClock

_WINDOW_S = 3600
_ANONYMOUS_LIMIT = 60


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int
    reset: int
    resource: str = "core"

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-resource": self.resource,
        }


class RateLimits:
    def __init__(self, clock: SandboxClock, limit: int) -> None:
        self._clock = clock
        self.limit = limit
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def peek(self, bucket: str) -> Budget:
        with self._lock:
            return self._current(bucket)

    def spend(self, bucket: str) -> Budget:
        with self._lock:
            budget = self._current(bucket)
            self._windows[bucket] = (budget.reset, budget.used + 1)
            return Budget(budget.limit, budget.used + 1, budget.reset)

    def _current(self, bucket: str) -> Budget:
        now = int(self._clock.now())
        reset, used = self._windows.get(bucket, (0, 0))
        if reset <= now:
            reset, used = now + _WINDOW_S, 0
        limit = _ANONYMOUS_LIMIT if bucket == "anonymous" else self.limit
        return Budget(limit, used, reset)
