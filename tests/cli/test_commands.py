"""The command table: every command is declared once, runs a function that exists, and says
what it does, how it exits and how it is used."""

from __future__ import annotations

import argparse

import pytest

from bot.adapters.github_token import DEFAULT_BOT_LOGIN
from bot.cli import COMMAND_MODULES, build_parser, commands, parsers
from bot.cli.docs import leaf_commands


def test_every_command_runs_a_function_of_a_command_module() -> None:
    for name, run in commands.RUNS.items():
        assert run.partition(":")[0] in COMMAND_MODULES, name
        assert callable(commands.resolve(run)), name


def test_every_parsed_command_is_in_the_table_with_its_help() -> None:
    leaves = leaf_commands(build_parser())
    assert sorted(leaves) == sorted(commands.RUNS)
    for name, parser in leaves.items():
        assert parser.get_default("run") == commands.RUNS[name]
        assert parser.description, name
        about = commands.HELP[name]
        assert about.examples and all(
            e.startswith("promotion-bot ") or "promotion-bot" in e for e in about.examples
        ), name
        assert "example:" in parser.format_help() and "exit status:" in parser.format_help()


def test_the_parsed_command_gets_its_function() -> None:
    args = build_parser().parse_args(["set-image", "f.yaml", "--image", "a/b", "--tag", "1"])
    assert args.func is commands.resolve("bot.cli.images:run_set_image")


@pytest.mark.parametrize("help_", [commands.Help("s", ((0, "fine"),), ("x",))])
def test_the_usage_status_joins_a_commands_own(help_: commands.Help) -> None:
    assert help_.statuses() == ((0, "fine"), (2, "The arguments are wrong (the usage is printed)"))
    both = commands.Help("s", ((2, "refused"),), ("x",))
    assert both.statuses() == ((2, "refused; or the arguments are wrong (the usage is printed)"),)


def test_drift_trusts_the_same_bot_login_as_the_token_gateway() -> None:
    assert parsers.DEFAULT_BOT_LOGIN == DEFAULT_BOT_LOGIN


def _every_subcommand(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += [sub, *_every_subcommand(sub)]
    return found


def test_every_subcommand_help_has_a_description_and_an_example() -> None:
    subcommands = _every_subcommand(build_parser())
    assert len(subcommands) == len(commands.RUNS) + 2  # and the "versions" and "db" families
    for parser in subcommands:
        text = parser.format_help()
        assert parser.description and parser.epilog, parser.prog
        assert "\n  promotion-bot " in text.partition("example")[2], parser.prog
