"""The load scenario of ``test_load`` on PostgreSQL: ``serve`` takes the burst in while a
``worker`` works beside it on the same database. In a file of its own so that xdist (one file to
a worker at a time) runs it beside the SQLite one rather than after it."""

from __future__ import annotations

from tests.reliability.conftest import Engine, Replicas
from tests.reliability.test_load import load_and_check


def test_a_thousand_pushes_on_postgresql_leave_one_pr_per_app(replicas: Replicas) -> None:
    load_and_check(Engine(replicas.stack, "@postgresql"))
