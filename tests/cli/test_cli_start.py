"""The command line starts without the modules its command does not run: ``--help``, ``images``
and ``set-image`` import no pydantic, githubkit, web stack or sandbox, nor, on YAML files, the
Terraform reader; ``versions pick`` and
``check-config``, which read policies and configs through the pydantic models, import neither the
web stack nor the use cases (bench/bench_cli_start.py times it; this guards it without a clock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

VALUES = Path(__file__).parent.parent / "data" / "yamledit" / "quotes" / "original" / "values.yaml"
CONFIG = Path(__file__).parent.parent / "data" / "config" / "valid" / "full.yml"
WEB_AND_SANDBOX = ("githubkit", "httpx", "fastapi", "starlette", "uvicorn", "github_sandbox")
# Runs the command line in this process and prints the modules then loaded.
PROBE = """
import sys
from bot.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("loaded=" + ",".join(sorted(sys.modules)), file=sys.stderr)
"""


def modules_after(*argv: str, cwd: Path) -> set[str]:
    """Every module in ``sys.modules`` once the command has run."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    last = done.stderr.splitlines()[-1]
    assert last.startswith("loaded="), done.stderr
    return set(last.removeprefix("loaded=").split(","))


def loaded_after(*argv: str, cwd: Path) -> set[str]:
    """The top-level packages loaded once the command has run."""
    return {name.partition(".")[0] for name in modules_after(*argv, cwd=cwd)}


SET_IMAGE = ("set-image", str(VALUES), "--image", "ghcr.io/acme/api", "--tag", "v2")


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("set-image", "--help"),
        ("drift", "--help"),
        ("serve", "--help"),
        ("images", str(VALUES)),
        ("images", "--json", str(VALUES.parent)),
        SET_IMAGE,
        (*SET_IMAGE, "--diff"),
        ("versions", "match", "~1.4", "1.4.2"),
    ],
    ids=" ".join,
)
def test_light_commands_import_no_heavy_module(argv: tuple[str, ...], tmp_path: Path) -> None:
    modules = modules_after(*argv, cwd=tmp_path)
    loaded = {name.partition(".")[0] for name in modules}
    assert [name for name in WEB_AND_SANDBOX if name in loaded] == []
    if argv[0] != "versions":  # versions match reads constraints, whose model is pydantic's
        assert "pydantic" not in loaded
    # YAML files only: the Terraform reader (and its parser's grammar) waits for a .tf file.
    hcl = [m for m in modules if m.startswith(("bot.core.files.hcl", "hcl2", "lark"))]
    assert hcl == []


@pytest.mark.parametrize(
    "argv",
    [
        ("versions", "pick", "--policy", "minor", "1.5.0"),
        ("check-config", str(CONFIG)),
    ],
    ids=" ".join,
)
def test_config_commands_import_no_web_stack(argv: tuple[str, ...], tmp_path: Path) -> None:
    modules = modules_after(*argv, cwd=tmp_path)
    loaded = {name.partition(".")[0] for name in modules}
    assert [name for name in WEB_AND_SANDBOX if name in loaded] == []
    # Nor the use cases (asyncio, the ports): check-config reads the working tree itself.
    services = [name for name in modules if name == "asyncio" or name.startswith("bot.services")]
    assert services == []


# What ``serve`` loads before it answers, on SQLite: its modules and every githubkit model it
# validates deliveries with (``load_githubkit_models``).
SERVE = """
import sys
import bot.cli.serve
from bot.entrypoints.translate import load_githubkit_models
load_githubkit_models()
print("loaded=" + ",".join(sorted(sys.modules)), file=sys.stderr)
"""


def test_serve_on_sqlite_loads_no_postgresql_and_one_model_per_action(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    modules = set(done.stderr.splitlines()[-1].removeprefix("loaded=").split(","))
    loaded = {name.partition(".")[0] for name in modules}
    assert loaded & {"psycopg", "psycopg_pool", "alembic", "sqlalchemy"} == set()
    # githubkit's unions of every action of each event load 196 of its model groups (5 s a
    # start); the models of the actions handled, 86 (githubkit 0.16.1).
    groups = [name for name in modules if ".models.group_" in name]
    assert 0 < len(groups) < 120, len(groups)
