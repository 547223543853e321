"""The PostgreSQL schema: ``promotion-bot db upgrade`` end to end, the migrations from an empty
database, ``check_schema`` on databases behind, ahead of or foreign to this bot, and the
password never shown."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bot.adapters.postgres_schema import (
    MIGRATIONS,
    PROCRASTINATE_VERSION,
    check_schema,
    head,
    redact,
    upgrade,
)
from bot.cli import main
from bot.settings import SchemaError

PASSWORD = "s3cret-Pa55word"


def run_sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {str(row[0]) for row in rows}


def test_db_upgrade_from_an_empty_database_end_to_end(empty_database: str, tmp_path: Path) -> None:
    env = {**os.environ, "PROMOTION_BOT_DATABASE_URL": empty_database}
    command = [str(Path(sys.executable).parent / "promotion-bot"), "db", "upgrade"]
    first = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(
        f"revision none -> {head()} (procrastinate 3.10.0 schema and the bot's tables)"
    )
    assert {"procrastinate_jobs", "procrastinate_workers", "alembic_version"} <= tables(
        empty_database
    )
    assert {
        "promotion_deliveries",
        "promotion_jobs",
        "promotion_dedupe_keys",
        "promotion_versions_seen",
        "promotion_throttles",
    } <= tables(empty_database)
    again = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (again.returncode, again.stdout.strip()) == (
        0,
        f"database {empty_database}: already at revision {head()}",
    )


async def test_an_upgraded_database_passes_the_check(empty_database: str) -> None:
    assert upgrade(empty_database, "0001") == (None, "0001")
    assert upgrade(empty_database) == ("0001", head())
    await check_schema(empty_database)


# What each database holds (SQL run on an empty one, "0001": upgraded to that revision) ->
# what check_schema says, and what upgrade says (None: it upgrades).
CASES = {
    "empty": ([], "has no schema yet: run promotion-bot db upgrade", None),
    "behind": (
        ["0001"],
        f"is at revision 0001, behind this bot's {head()}: run promotion-bot db upgrade",
        None,
    ),
    "ahead": (
        ["head", "UPDATE alembic_version SET version_num = '9999_newer'"],
        "this bot is older than the database",
        "this bot is older than the database",
    ),
    "foreign": (
        ["CREATE TABLE procrastinate_jobs (id bigint)"],
        "holds tables but no schema version (alembic_version): it was not made by "
        "promotion-bot db upgrade",
        "holds tables but no schema version",
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_check_schema_refuses_a_schema_it_does_not_run_on(
    empty_database: str, case: str
) -> None:
    steps, checked, upgraded = CASES[case]
    for step in steps:
        if step in {"0001", "head"}:
            upgrade(empty_database, step)
        else:
            run_sql(empty_database, step)
    with pytest.raises(SchemaError, match=r"the database|this bot is older") as refused:
        await check_schema(empty_database)
    assert checked in str(refused.value)
    if upgraded is None:
        upgrade(empty_database)
        await check_schema(empty_database)
    else:
        with pytest.raises(SchemaError) as not_upgraded:
            upgrade(empty_database)
        assert upgraded in str(not_upgraded.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://bot:{PASSWORD}@db.internal:5432/bot",
            "postgresql://bot:***@db.internal:5432/bot",
        ),
        ("postgresql://bot@db/bot?sslmode=require", "postgresql://bot@db/bot?sslmode=require"),
        (
            f"host=db user=bot password={PASSWORD} dbname=bot",
            "host=db user=bot password=*** dbname=bot",
        ),
        (f"host=db password='{PASSWORD} x' dbname=bot", "host=db password=*** dbname=bot"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown


async def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://bot:{PASSWORD}@/bot?host={tmp_path}/nowhere&connect_timeout=5"
    with pytest.raises(SchemaError, match="cannot reach the database") as refused:
        await check_schema(url)
    assert PASSWORD not in str(refused.value) and "bot:***@" in str(refused.value)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("PROMOTION_BOT_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the database" in err and PASSWORD not in err


def test_db_upgrade_needs_a_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROMOTION_BOT_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 2
    assert "PROMOTION_BOT_DATABASE_URL is not set" in capsys.readouterr().err


def test_revision_0001_is_procrastinate_s_own_schema() -> None:
    """The schema the first revision applies is the one procrastinate ships, for the pinned
    version (a later procrastinate comes with a revision of its own)."""
    import procrastinate.schema  # noqa: PLC0415 (only this test reads it)

    assert importlib.metadata.version("procrastinate") == PROCRASTINATE_VERSION
    vendored = (MIGRATIONS / f"procrastinate-{PROCRASTINATE_VERSION}.sql").read_text()
    assert vendored.endswith(procrastinate.schema.SchemaManager.get_schema())
