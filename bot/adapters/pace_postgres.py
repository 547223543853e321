"""The write pace of one installation kept in PostgreSQL, so every replica spends from one
budget: GitHub's secondary limits count an installation's content-creating requests whichever
process sends them, and two replicas pacing apart would send twice GitHub's figures.

``spend`` runs in one transaction under an advisory lock of the installation (replicas spending
at once queue behind it; other installations do not wait): it forgets writes older than the
hour, reads the rest, and either records the new ones or says how long to wait, with the same
window arithmetic as the in-process pace (``github_pacing.wait_for``). Times are the database's
clock, which all replicas share.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.adapters.github_pacing import WRITES_PER_HOUR, WRITES_PER_MINUTE, wait_for

if TYPE_CHECKING:  # a SQLite deployment never loads psycopg
    import psycopg

Connect = Callable[[], AbstractAsyncContextManager["psycopg.AsyncConnection[Any]"]]
# The advisory locks' first key: this module's (the second is the installation).
PACE_LOCK = 0x70616365  # "pace"


class SharedWritePace:
    """``WriteBudget`` of ``installation_id`` in the ``promotion_writes_sent`` table; the
    figures as ``WritePace``'s (``margin``: a write counts as sent that much later)."""

    def __init__(
        self,
        connect: Connect,
        installation_id: int,
        *,
        per_minute: int = WRITES_PER_MINUTE,
        per_hour: int = WRITES_PER_HOUR,
        window_scale: float = 1.0,
        margin: float = 0.0,
    ) -> None:
        self.connect = connect
        self.installation_id = installation_id
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.window_scale = window_scale
        self.margin = margin

    async def spend(self, count: int = 1) -> timedelta | None:
        count = min(count, self.per_minute)
        key = self.installation_id
        async with self.connect() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (PACE_LOCK, key))
            cursor = await conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8")
            row = await cursor.fetchone()
            assert row is not None
            now = float(row[0])
            await conn.execute(
                "DELETE FROM promotion_writes_sent WHERE installation_id = %s AND sent_at <= %s",
                (key, now - 3600 * self.window_scale),
            )
            cursor = await conn.execute(
                "SELECT sent_at FROM promotion_writes_sent WHERE installation_id = %s "
                "ORDER BY sent_at",
                (key,),
            )
            sent = [float(r[0]) for r in await cursor.fetchall()]
            wait = wait_for(
                sent,
                now,
                count,
                per_minute=self.per_minute,
                per_hour=self.per_hour,
                scale=self.window_scale,
            )
            if wait > 0:
                return timedelta(seconds=wait)
            await conn.cursor().executemany(
                "INSERT INTO promotion_writes_sent (installation_id, sent_at) VALUES (%s, %s)",
                [(key, now + self.margin)] * count,
            )
            return None
