"""The command table and how a command is declared: each command names the function that runs it
as ``"module:function"`` (``RUNS``), imported only once the command is parsed, and carries a
description, its exit statuses and an example, shown by ``--help`` and rendered into docs/cli.md
by ``python -m bot.cli.docs``. Imports argparse and the standard library only.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

PROGRAM = "promotion-bot"
# What a command does when argparse refuses its arguments (argparse's own status).
USAGE_EXIT = (2, "the arguments are wrong (the usage is printed)")

# Each command and the function that runs it: the module is imported only when it runs.
RUNS: dict[str, str] = {
    "versions match": "bot.cli.versions:run_match",
    "versions pick": "bot.cli.versions:run_pick",
    "images": "bot.cli.images:run_images",
    "set-image": "bot.cli.images:run_set_image",
    "check-config": "bot.cli.config:run_check_config",
    "config-schema": "bot.cli.config:run_config_schema",
    "init": "bot.cli.init:run_init",
    "drift": "bot.cli.drift:run_drift",
    "serve": "bot.cli.serve:run_serve",
    "worker": "bot.cli.serve:run_worker",
    "replay": "bot.cli.serve:run_replay",
    "db upgrade": "bot.cli.db:run_upgrade",
    "sandbox": "bot.cli.sandbox:run",
    "demo": "bot.cli.demo:run",
}


class Help:
    """What ``--help`` shows after the options, and docs/cli.md under each command."""

    def __init__(
        self,
        summary: str,
        exits: tuple[tuple[int, str], ...],
        examples: tuple[str, ...],
        runnable: bool = True,
    ) -> None:
        self.summary = summary  # the line in the parent's list of commands
        self.exits = exits
        self.examples = examples
        # Whether the examples run in the docs' workspace (tests/test_docs_examples.py runs
        # them): not those that need a git clone, GitHub or a saved delivery.
        self.runnable = runnable

    def statuses(self) -> tuple[tuple[int, str], ...]:
        """The command's exit statuses with argparse's own (2, the arguments are wrong)."""
        code, usage = USAGE_EXIT
        mine = dict(self.exits)
        mine[code] = f"{mine[code]}; or {usage}" if code in mine else usage.capitalize()
        return tuple(sorted(mine.items()))

    def epilog(self) -> str:
        exits = [f"  {code}  {meaning}" for code, meaning in self.statuses()]
        examples = [f"  {line}" for line in self.examples]
        return "\n".join(["exit status:", *exits, "", "example:", *examples])


class Formatter(argparse.HelpFormatter):
    """Wraps the description; in the epilog, wraps an exit status under its meaning and never
    wraps an example (it stays one line to copy)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap  # noqa: PLC0415 (only --help needs it, as in argparse)

        lines = []
        for line in text.splitlines():
            stripped = line.lstrip()
            lead = indent + line[: len(line) - len(stripped)]
            if not stripped or stripped.startswith(PROGRAM):
                lines.append(lead + stripped if stripped else "")
                continue
            hang = lead + " " * 3 if stripped[:1].isdigit() else lead
            lines.append(
                textwrap.fill(stripped, width, initial_indent=lead, subsequent_indent=hang)
            )
        return "\n".join(lines)


# Command name ("versions pick") -> its Help, filled in as the commands are declared.
HELP: dict[str, Help] = {}


def command(
    subparsers: Any,
    name: str,
    *,
    help: str,
    description: str,
    exits: dict[int, str],
    example: str | tuple[str, ...],
    parent: str = "",
    runnable: bool = True,
) -> argparse.ArgumentParser:
    """Declare one command with its description, exit statuses and example."""
    full = f"{parent} {name}".strip()
    examples = (example,) if isinstance(example, str) else example
    about = Help(help, tuple(exits.items()), examples, runnable)
    HELP[full] = about
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=about.epilog(),
        formatter_class=Formatter,
    )
    parser.set_defaults(run=RUNS[full])
    return parser


def resolve(run: str) -> Callable[[argparse.Namespace], int]:
    """The function ``"module:function"`` names, importing its module."""
    module, _, name = run.partition(":")
    function: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
    return function


class CommandParser(argparse.ArgumentParser):
    """Sets ``func`` to the parsed command's function: only that command's module is imported,
    and only once its arguments are known to be right."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        run = getattr(parsed, "run", None)
        if isinstance(run, str):
            parsed.func = resolve(run)
        return parsed, extras
