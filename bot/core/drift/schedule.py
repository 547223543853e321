"""When a repository's drift audit is due: a cron slot, moved by a jitter of its own.

The jitter is a stable offset per repository (from its name), so many repositories on one
schedule do not all audit in the same minute, and every replica agrees on when each is due.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from cronsim import CronSim

JITTER = timedelta(minutes=10)
DEFAULT_SCHEDULE = "0 6 * * 1-5"  # weekdays at 06:00 UTC


def jitter(key: str, spread: timedelta = JITTER) -> timedelta:
    """A stable offset in ``[0, spread)`` for ``key``."""
    digest = hashlib.sha256(key.encode()).digest()
    seconds = int.from_bytes(digest[:8], "big") % max(int(spread.total_seconds()), 1)
    return timedelta(seconds=seconds)


def due(cron: str, *, since: datetime, now: datetime, key: str) -> bool:
    """Whether a slot of ``cron`` (UTC), moved by ``key``'s jitter, falls in ``(since, now]``."""
    offset = jitter(key)
    for slot in CronSim(cron, since - offset):
        moved = slot + offset
        if moved > now:
            return False
        if moved > since:
            return True
    return False
