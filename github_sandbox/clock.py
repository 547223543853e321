"""The sandbox clock: wall time plus an offset the admin API can advance.

Server-side expiries (installation tokens, manifest codes, rate-limit windows) read this clock,
so tests can jump an hour ahead instead of waiting one.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = offset_seconds
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._offset += seconds
            return self._offset

    def iso(self, at: float | None = None) -> str:
        return iso_time(self.now() if at is None else at)


def iso_time(epoch: float) -> str:
    """GitHub's timestamp format: second precision, `Z` suffix."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of(iso: str) -> int:
    """Epoch seconds of an ISO-8601 time (``Z`` or an offset); ValueError if malformed."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
