"""The PostgreSQL queue's schema: bringing a database up to date with Alembic (``promotion-bot
db upgrade``), and refusing to run on a schema this bot does not know (``check_schema``).

The revisions live in ``bot/adapters/migrations``: procrastinate's schema first (its version is
in the revision's name), then the bot's tables. Every message here names the database with its
password redacted.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from bot.settings import SchemaError

MIGRATIONS = Path(__file__).parent / "migrations"
PROCRASTINATE_VERSION = "3.10.0"  # the schema revision 0001 applies; pinned in pyproject.toml
VERSION_TABLE = "alembic_version"


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (URL or ``key=value`` form)."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this bot knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "bot/adapters/migrations has no revision"
    return revision


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Apply every revision up to ``revision`` in one transaction; (the revision before, after).
    Refuses (``SchemaError``) a database this bot did not make or one newer than it."""
    engine = sqlalchemy.create_engine(_driver_url(url), poolclass=sqlalchemy.NullPool)
    try:
        with engine.begin() as conn:
            driver = conn.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            before, tables = _state(driver)
            problem = foreign_or_newer(redact(url), before, tables)
            if problem:
                raise SchemaError(problem)
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            after, _ = _state(driver)
    except sqlalchemy.exc.OperationalError as err:
        reason = _redacted(err.orig or err, url)
        raise SchemaError(f"cannot reach the database {redact(url)}: {reason}") from None
    finally:
        engine.dispose()
    assert after is not None
    return before, after


async def check_schema(url: str) -> None:
    """Raise ``SchemaError`` unless the database at ``url`` is at this bot's newest revision
    (read on a thread: once, at start-up)."""
    where = redact(url)
    try:
        version, tables = await asyncio.to_thread(_read_state, url)
    except psycopg.OperationalError as err:
        raise SchemaError(f"cannot reach the database {where}: {_redacted(err, url)}") from None
    problem = foreign_or_newer(where, version, tables)
    if problem:
        raise SchemaError(problem)
    if version != head():
        behind = f"is at revision {version}, behind this bot's {head()}"
        state = behind if version else "has no schema yet"
        raise SchemaError(f"the database {where} {state}: run promotion-bot db upgrade")


def foreign_or_newer(where: str, version: str | None, tables: int) -> str | None:
    """Why the database named ``where`` cannot be upgraded by this bot: it holds tables but
    no revision (made by something else), or a revision this bot does not know (made by a
    newer bot); ``None`` when it can."""
    if version is None:
        if not tables:
            return None
        return (
            f"the database {where} holds tables but no schema version ({VERSION_TABLE}): it "
            "was not made by promotion-bot db upgrade; use an empty database"
        )
    try:
        ScriptDirectory.from_config(_config()).get_revision(version)
    except CommandError:
        return (
            f"this bot is older than the database {where}: it is at revision {version}, which "
            f"this bot does not know (it knows up to {head()}); run a newer promotion-bot"
        )
    return None


def _redacted(err: Exception, url: str) -> str:
    """``err``'s message without the password of ``url``, should the driver echo it."""
    password = urlsplit(url).password
    text = str(err)
    return text.replace(password, "***") if password else text


def _driver_url(url: str) -> str:
    """``url`` for SQLAlchemy, on psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    return url


# How many tables the database has, and whether one is the revision's.
STATE = (
    "SELECT count(*), to_regclass(%s) IS NOT NULL FROM pg_tables "
    "WHERE schemaname = current_schema()"
)


def _read_state(url: str) -> tuple[str | None, int]:
    with psycopg.connect(url) as conn:
        return _state(conn)


def _state(conn: psycopg.Connection[Any]) -> tuple[str | None, int]:
    """The revision the database is at (``None``: none recorded), and how many tables it has."""
    tables, versioned = conn.execute(STATE, (VERSION_TABLE,)).fetchone() or (0, False)
    row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone() if versioned else None
    return (None if row is None else str(row[0])), tables
