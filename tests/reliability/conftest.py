"""The reliability suite's stacks: the real ``promotion-bot serve`` and ``promotion-bot sandbox``
processes (``tests.e2e.harness``), one per test process (xdist worker) and engine, with time
compressed on both sides by ``SCALE`` as ``tests/e2e/test_burst.py`` explains: the sandbox's
secondary-limit minute and hour and the bot's write pace and secondary back-off are ``SCALE``
times GitHub's.

``stack`` runs the bot on its default queue (SQLite); ``replicas`` runs ``serve`` and a
``worker`` process on one PostgreSQL database (skipped without a PostgreSQL server, as
``tests/conftest.postgres`` says)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.demo.harness import Stack
from bot.demo.runners import BotProcess
from tests.e2e.harness import start_processes
from tests.postgres import Server

SCALE = 0.05  # a minute of 3 s, an hour of 3 min
OPTIONS = {"write_window_scale": str(SCALE)}
LIMITS = {"window_scale": SCALE}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in item.nodeid and "stack" in str(
            getattr(item, "fixturenames", "")
        ):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_processes(tmp_path_factory.mktemp("reliability"), OPTIONS, LIMITS)
    yield running
    running.stop()


@dataclass
class Replicas:
    """``serve`` (the stack's bot) and a ``worker`` process on one PostgreSQL queue."""

    stack: Stack
    worker: BotProcess


@pytest.fixture(scope="session")
def replicas(tmp_path_factory: pytest.TempPathFactory, postgres: Server) -> Iterator[Replicas]:
    workdir: Path = tmp_path_factory.mktemp("reliability-postgresql")
    with postgres.database(migrated=True) as url:
        running = start_processes(workdir, OPTIONS | {"database_url": url}, LIMITS)
        assert isinstance(running.bot, BotProcess)
        worker = running.bot.replica("worker")
        try:
            worker.start()
            yield Replicas(running, worker)
        finally:
            worker.stop()
            running.stop()


@dataclass(frozen=True)
class Engine:
    """A stack and the name its figures are recorded under (``load``, ``load@postgresql``)."""

    stack: Stack
    suffix: str

    def figure(self, scenario: str) -> str:
        return scenario + self.suffix
