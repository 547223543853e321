"""The end-to-end stack (sandbox and bot as real processes), shared by the whole session; every
test here is marked ``e2e`` and fails if the bot tripped a rate limit of the sandbox while it
ran."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.demo.harness import Stack
from tests.e2e.harness import rate_limits_tripped, start_processes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_processes(tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_rate_limit_tripped(request: pytest.FixtureRequest) -> Iterator[None]:
    """GitHub's secondary limits are on in the sandbox: no test may make the bot trip one (or
    the primary limit). Tests without the session stack check their own."""
    if "stack" not in request.fixturenames:
        yield
        return
    stack: Stack = request.getfixturevalue("stack")
    before = rate_limits_tripped(stack)
    yield
    after = rate_limits_tripped(stack)
    tripped = {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}
    assert not tripped, f"the bot tripped rate limits of the sandbox: {tripped}"
