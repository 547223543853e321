"""A PostgreSQL server for the tests: ``$PROMOTION_BOT_TEST_DATABASE_URL`` when set, else a
throwaway cluster started from Debian's binaries (``/usr/lib/postgresql/*/bin``) in a temporary
directory, one per test process (xdist worker), reached over a Unix socket in that directory.

``fsync`` stays on: the queue's durability is what the tests are about. Without a server the
tests that need one are skipped, saying why, except under CI (``$CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

URL_VARIABLE = "PROMOTION_BOT_TEST_DATABASE_URL"
SERVER_USER = "postgres"  # initdb refuses to run as root: the cluster belongs to this user


def binaries() -> Path | None:
    """The newest Debian PostgreSQL ``bin`` directory, or ``None``."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return found[-1].parent if found else None


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Cluster:
    """A running cluster in ``directory``; ``stop`` ends it and removes the directory."""

    directory: Path
    bin: Path
    _stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER}@/postgres?host={self.directory}"

    @classmethod
    def start(cls, bin_dir: Path) -> Cluster:
        directory = Path(tempfile.mkdtemp(prefix="pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, SERVER_USER, SERVER_USER)
        data = directory / "data"
        run = _as_server_user
        subprocess.run(
            run(
                [
                    str(bin_dir / "initdb"),
                    "--no-sync",
                    "-D",
                    str(data),
                    "-U",
                    SERVER_USER,
                    "-A",
                    "trust",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses='' -c unix_socket_directories={directory} -c fsync=on"
        # The server's output goes to a log file: a pipe would stay open as long as it runs.
        log = directory / "server.log"
        start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log)]
        subprocess.run(run([*start, "-w", "start"]), check=True, stdout=subprocess.DEVNULL)
        return cls(directory, bin_dir)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            stop = [str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast"]
            subprocess.run(_as_server_user([*stop, "stop"]), check=False, capture_output=True)
            shutil.rmtree(self.directory, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead of its own."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Server:
    """Hands out fresh databases on one server: empty, or migrated to the newest revision
    (copied from a template migrated once)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._names = itertools.count()
        self._prefix = f"t{os.getpid()}_"
        self._template: str | None = None

    def _create(self, template: str = "template0") -> str:
        name = f"{self._prefix}{next(self._names)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def database(self, *, migrated: bool = False) -> Iterator[str]:
        """A new database (its URL), dropped afterwards."""
        if migrated and self._template is None:
            # Here, not at import: every test session loads this module through conftest.
            from bot.adapters.postgres_schema import upgrade  # noqa: PLC0415

            self._template = self._create()
            upgrade(with_database(self.url, self._template))
        name = self._create(self._template if migrated and self._template else "template0")
        try:
            yield with_database(self.url, name)
        finally:
            self._drop(name)

    def close(self) -> None:
        if self._template is not None:
            self._drop(self._template)


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """The test server, or a skip (a failure under CI) saying why there is none."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        shared = Server(url)
        try:
            yield shared
        finally:
            shared.close()
        return
    bin_dir = binaries()
    if bin_dir is None:
        reason = f"no PostgreSQL: set {URL_VARIABLE} or install Debian's postgresql package"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = Cluster.start(bin_dir)
    try:
        yield Server(cluster.url)
    finally:
        cluster.stop()
