"""The end-to-end stack (sandbox and bot as real processes), shared by the whole session; every
test here is marked ``e2e``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.demo.harness import Stack
from tests.e2e.harness import start_processes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_processes(tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()
