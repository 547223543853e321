"""Fixtures for every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from github_sandbox.server import SandboxHandle, run_sandbox
from tests.postgres import Server, server

# The longest files, longest first (seconds on 2 busy cores, from ``--durations``): xdist hands
# out whole files (``--dist loadfile``) in collection order (``--no-loadscope-reorder``: by
# default it hands out the files with the most tests first, which left these single-test files
# to the end, run one beside nothing). Then the rest of the end-to-end and reliability suites.
LONGEST_FILES = (
    "tests/reliability/test_load.py",  # 48
    "tests/reliability/test_crashes.py",  # 42
    "tests/reliability/test_faults.py",  # 38
    "tests/reliability/test_load_postgresql.py",  # 38, and 12 to start PostgreSQL's replicas
    "tests/reliability/test_crashes_postgresql.py",  # 21, with them
    "tests/e2e/test_burst.py",  # 29
)
SLOW_DIRECTORIES = ("tests/reliability/", "tests/e2e/")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.partition("::")[0]
        if path in LONGEST_FILES:
            return LONGEST_FILES.index(path)
        slow = path.startswith(SLOW_DIRECTORIES)
        return len(LONGEST_FILES) + (0 if slow else 1)

    items.sort(key=rank)  # stable: a file's tests keep their order


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
