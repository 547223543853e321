"""The command line. ``bot.cli.parsers`` declares every command with argparse alone; the table
``bot.cli.commands.RUNS`` names the function that runs each, in a module imported only when that
command runs: ``--help`` and ``set-image`` never import the web stack, githubkit or the sandbox.

A command's function takes the parsed namespace and returns the process exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from bot.cli.commands import RUNS, CommandParser
from bot.cli.parsers import FAMILIES

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

# What a shell reports for a process that SIGPIPE ended: 128 + the signal's number.
SIGPIPE_EXIT = 128 + signal.SIGPIPE
# The modules that run the commands, each imported only when one of its commands runs.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(r.partition(":")[0] for r in RUNS.values()))


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="promotion-bot",
        description="GitOps environment promotion by pull request.",
        epilog="promotion-bot COMMAND --help: a command's options, exit statuses and example "
        "(all of them: docs/cli.md).",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=argparse.ArgumentParser
    )
    for declare in FAMILIES:
        declare(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (``| head``): end silently, as ``seq`` or ``git log`` do,
        # with stdout on /dev/null so the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
    return code
