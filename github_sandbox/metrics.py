"""The request log and its counters, read through the admin API to count the bot's calls."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    at: float
    method: str
    path: str
    route: str
    status: int
    installation_id: int | None
    principal: str
    duration_ms: float
    fault: str | None
    # The rate limit that refused it: ``secondary:<reason>``, ``primary`` or ``...:fault``.
    limit: str | None = None


class Metrics:
    def __init__(self, limit: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._log: list[LoggedRequest] = []
        self._seq = 0
        self._limit = limit

    def record(self, **fields: Any) -> None:
        with self._lock:
            self._seq += 1
            self._log.append(LoggedRequest(seq=self._seq, **fields))
            if len(self._log) > self._limit:
                del self._log[: len(self._log) - self._limit]

    def requests(
        self,
        *,
        installation_id: int | None = None,
        route: str | None = None,
        since: float | None = None,
    ) -> list[LoggedRequest]:
        with self._lock:
            log = list(self._log)
        return [
            entry
            for entry in log
            if (installation_id is None or entry.installation_id == installation_id)
            and (route is None or entry.route == route)
            and (since is None or entry.at >= since)
        ]

    def counters(self, **filters: Any) -> dict[str, Any]:
        """Counts per ``METHOD route``, per installation and per rate limit that refused a
        request (``limit_responses`` is their sum), over the filtered log."""
        entries = self.requests(**filters)
        by_route = Counter(f"{e.method} {e.route}" for e in entries)
        by_installation = Counter(str(e.installation_id) for e in entries if e.installation_id)
        by_limit = Counter(e.limit for e in entries if e.limit)
        return {
            "total": len(entries),
            "by_route": dict(by_route),
            "by_installation": dict(by_installation),
            "limit_responses": sum(by_limit.values()),
            "by_limit": dict(by_limit),
        }

    def reset(self) -> None:
        with self._lock:
            self._log.clear()


def as_json(entry: LoggedRequest) -> dict[str, Any]:
    return asdict(entry)
