"""Fixtures for every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from github_sandbox.server import SandboxHandle, run_sandbox
from tests.postgres import Server, server


@pytest.fixture
def live_sandbox(tmp_path: Path) -> Iterator[SandboxHandle]:
    """A sandbox served by uvicorn on a free loopback port."""
    handle = run_sandbox(tmp_path / "live")
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server for this test process (tests/postgres.py): skipped when there is
    none, failed under CI."""
    with server() as found:
        yield found


@pytest.fixture
def empty_database(postgres: Server) -> Iterator[str]:
    """The URL of a new, empty database."""
    with postgres.database() as url:
        yield url


@pytest.fixture
def database(postgres: Server) -> Iterator[str]:
    """The URL of a new database at the newest schema revision."""
    with postgres.database(migrated=True) as url:
        yield url
