"""Fixtures for every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from github_sandbox.server import SandboxHandle, run_sandbox


@pytest.fixture
def live_sandbox(tmp_path: Path) -> Iterator[SandboxHandle]:
    """A sandbox served by uvicorn on a free loopback port."""
    handle = run_sandbox(tmp_path / "live")
    yield handle
    handle.stop()
