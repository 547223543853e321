from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.queue_sqlite import SqliteJobQueue
from tests.adapters.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "queue.sqlite3"


@pytest.fixture
def queue(db_path: Path, clock: FakeClock) -> Iterator[SqliteJobQueue]:
    q = SqliteJobQueue(db_path, clock=clock)
    yield q
    q.close()
