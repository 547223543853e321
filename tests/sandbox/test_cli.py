"""The ``sandbox`` command is registered and parses its options."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli.sandbox import run


@pytest.mark.parametrize(
    ("argv", "port", "data", "open_admin"),
    [
        (["sandbox"], 8765, Path(".sandbox"), False),
        (
            ["sandbox", "--port", "0", "--data", "/tmp/x", "--no-admin-token"],
            0,
            Path("/tmp/x"),
            True,
        ),
    ],
)
def test_sandbox_command_parses(argv, port, data, open_admin) -> None:
    args = build_parser().parse_args(argv)
    assert (args.port, args.data, args.no_admin_token, args.func) == (port, data, open_admin, run)
