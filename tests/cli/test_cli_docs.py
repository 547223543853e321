"""docs/cli.md is generated from the parsers: it fails here when a command changed without it."""

from __future__ import annotations

from bot.cli import docs
from bot.cli.commands import HELP


def test_docs_cli_md_is_generated_from_the_parsers() -> None:
    assert docs.DOCS_FILE.read_text("utf-8") == docs.render(), "run: python -m bot.cli.docs --write"
    assert docs.main(["--check"]) == 0


def test_every_command_has_a_section_with_its_example() -> None:
    page = docs.render()
    for name, about in HELP.items():
        assert f"## promotion-bot {name}\n" in page
        assert all(example in page for example in about.examples)
