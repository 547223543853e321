"""The command line. Each subcommand family lives in its own module with a ``register`` function.

A module's ``register(subparsers)`` adds its subcommands and sets ``func`` on each parser; ``func``
takes the parsed namespace and returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

# One visible list of every command family; add a module here to add commands.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli.versions",
    "bot.cli.images",
    "bot.cli.config",
    "bot.cli.drift",
    "bot.cli.serve",
    "bot.cli.sandbox",
    "bot.cli.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promotion-bot",
        description="GitOps environment promotion by pull request.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
