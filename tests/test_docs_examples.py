"""Every example in README.md and docs/*.md works as shown.

- CLI examples: each line of a ```sh block that starts with ``promotion-bot `` (or
  ``$ promotion-bot ``) runs through the shell in a temporary directory holding the files the
  examples name (``WORKSPACE``, copied from ``tests/data/``), and exits 0, or the status a
  trailing ``# exits N`` comment states. Commands that start servers or need a database
  (``SERVER_COMMANDS``) run with ``--help`` instead, and every option the example shows must
  be in that help.
- Set-up lines (``SETUP_LINES``: a fresh virtualenv, then the demo or the tests) are run by CI,
  not here; any other ``promotion-bot`` line in a ```sh block fails ``test_every_cli_line_is_
  checked``.
- Config examples (```yaml config / ```yaml policy, in any doc) are validated by
  ``tests/test_schema.py``; other ```yaml and ```json blocks must at least parse.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PROMPT = "$ "
PROGRAM = "promotion-bot"
EXIT_NOTE = re.compile(r"#.*\bexits? (\d+)\b")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)")

# Subcommands that start a server or need a PostgreSQL database; their examples are checked
# against ``--help``.
SERVER_COMMANDS = frozenset({"serve", "worker", "db", "sandbox", "demo"})
# Lines that build a virtualenv first; CI runs them (they need a network for pip).
SETUP_LINES = frozenset(
    {
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/promotion-bot demo"
        " --no-wait",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    }
)
# What the examples' working directory holds: an environment repository checkout (under the
# names the docs use) and a Helm values file with ghcr.io/acme/api.
CONFIG = ROOT / "tests/data/config/valid/full.yml"
WORKSPACE = {
    "values.yaml": ROOT / "tests/data/yamledit/quotes/original/values.yaml",
    ".github/promotion.yml": CONFIG,
    "path/to/env-repo/.github/promotion.yml": CONFIG,
    "path/to/environment-repo/.github/promotion.yml": CONFIG,
}


@dataclass(frozen=True)
class Example:
    where: str  # page:line
    command: str

    @property
    def subcommand(self) -> str:
        return shlex.split(self.command, comments=True)[1]


def blocks(language: str) -> list[tuple[Path, int, str, str]]:
    """(page, first line, info after the language, text) of every ```language block."""
    found = []
    for page in PAGES:
        source = page.read_text("utf-8")
        for match in BLOCK.finditer(source):
            if match[1] == language:
                line = source.count("\n", 0, match.start(3)) + 1
                found.append((page, line, match[2].strip(), match[3]))
    return found


def sh_lines() -> list[tuple[str, str]]:
    """(page:line, line without the prompt) of every line of every ```sh block."""
    return [
        (f"{page.relative_to(ROOT)}:{first + offset}", line.strip().removeprefix(PROMPT))
        for page, first, _, text in blocks("sh")
        for offset, line in enumerate(text.splitlines())
    ]


def cli_examples() -> list[Example]:
    return [Example(where, line) for where, line in sh_lines() if line.startswith(f"{PROGRAM} ")]


def expected_status(command: str) -> int:
    note = EXIT_NOTE.search(command)
    return int(note[1]) if note else 0


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name, source in WORKSPACE.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return tmp_path


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` through bash with this interpreter's scripts (``promotion-bot``) first."""
    scripts = Path(sys.executable).parent
    assert shutil.which(PROGRAM, path=str(scripts)), f"not installed program={PROGRAM}"
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        ["bash", "-c", command],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_cli_line_is_checked() -> None:
    examples = {e.where for e in cli_examples()}
    unchecked = [
        (where, line)
        for where, line in sh_lines()
        if PROGRAM in line and where not in examples and line not in SETUP_LINES
    ]
    assert unchecked == []
    assert {e.subcommand for e in cli_examples()} >= {"images", "check-config", *SERVER_COMMANDS}


@pytest.mark.parametrize(
    "example",
    [e for e in cli_examples() if e.subcommand not in SERVER_COMMANDS],
    ids=lambda e: e.where,
)
def test_cli_example_runs(example: Example, workspace: Path) -> None:
    done = run_shell(example.command, workspace)
    assert done.returncode == expected_status(example.command), (
        f"doc example failed where={example.where} command={example.command!r} "
        f"status={done.returncode} stderr={done.stderr[-2000:]}"
    )


@pytest.mark.parametrize(
    "example",
    [e for e in cli_examples() if e.subcommand in SERVER_COMMANDS],
    ids=lambda e: e.where,
)
def test_server_example_options_exist(example: Example, workspace: Path) -> None:
    done = run_shell(f"{PROGRAM} {example.subcommand} --help", workspace)
    assert done.returncode == 0, done.stderr
    shown = OPTION.findall(example.command.partition("#")[0])
    assert [o for o in shown if o not in done.stdout] == [], f"where={example.where}"


def block_cases(language: str, *, skip: frozenset[str] = frozenset()) -> list[object]:
    return [
        pytest.param(text, id=f"{page.relative_to(ROOT)}:{line}")
        for page, line, info, text in blocks(language)
        if info not in skip
    ]


@pytest.mark.parametrize("text", block_cases("yaml", skip=frozenset({"config", "policy"})))
def test_other_yaml_blocks_parse(text: str) -> None:
    assert list(yaml.safe_load_all(text))


@pytest.mark.parametrize("text", block_cases("json"))
def test_json_blocks_parse(text: str) -> None:
    assert json.loads(text) is not None
