"""The reliability suite's stack: the real ``promotion-bot serve`` and ``promotion-bot sandbox``
processes (``tests.e2e.harness``), one per test process (xdist worker), with time compressed on
both sides by ``SCALE`` as ``tests/e2e/test_burst.py`` explains: the sandbox's secondary-limit
minute and hour and the bot's write pace and secondary back-off are ``SCALE`` times GitHub's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.demo.harness import Stack
from tests.e2e.harness import start_processes

SCALE = 0.05  # a minute of 3 s, an hour of 3 min


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in item.nodeid and "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_processes(
        tmp_path_factory.mktemp("reliability"),
        options={"write_window_scale": str(SCALE)},
        limits={"window_scale": SCALE},
    )
    yield running
    running.stop()
