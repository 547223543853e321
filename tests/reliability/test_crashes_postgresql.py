"""The crash scenario of ``test_crashes`` on PostgreSQL: ``serve`` is killed while a ``worker``
works beside it on the same database. In a file of its own so that xdist (one file to a worker
at a time) runs it beside the SQLite one rather than after it."""

from __future__ import annotations

from tests.reliability.conftest import Engine, Replicas
from tests.reliability.test_crashes import crash_and_check


def test_killed_beside_a_worker_nothing_is_lost_or_doubled(replicas: Replicas) -> None:
    crash_and_check(Engine(replicas.stack, "@postgresql"))
