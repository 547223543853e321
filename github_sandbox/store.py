"""The durable store: one sqlite table of JSON records, keyed by kind and id.

Every entity (app, installation, token, user, role, repo, pull request, issue, comment, label,
reaction, check run, delivery, ...) is a JSON object of one ``kind``. Two indexed columns make
lookups cheap: ``repo_id`` (records that belong to a repository) and ``key`` (a unique-ish lookup
string such as a login, a token or ``owner/name``). Ids come from one shared sequence, like
GitHub's global database ids.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    repo_id INTEGER,
    key TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_key ON records (kind, key);
CREATE INDEX IF NOT EXISTS records_kind_repo ON records (kind, repo_id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Ids start high enough to look like GitHub ids and never collide with small test literals.
_FIRST_ID = 1000


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        if self._db.execute("SELECT COUNT(*) FROM sqlite_sequence").fetchone()[0] == 0:
            self._db.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('records', ?)", (_FIRST_ID,)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so a failure leaves none of them behind."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(
        self, kind: str, data: Record, *, repo_id: int | None = None, key: str | None = None
    ) -> Record:
        """Store a new record; its ``id`` field is set from the shared sequence and returned."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO records (kind, repo_id, key, data) VALUES (?, ?, ?, '{}')",
                (kind, repo_id, key),
            )
            record = {**data, "id": cur.lastrowid}
            self._db.execute(
                "UPDATE records SET data = ? WHERE id = ?", (json.dumps(record), cur.lastrowid)
            )
            return record

    def get(self, kind: str, record_id: int) -> Record | None:
        row = self._db_one("SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return None if row is None else _load(row)

    def find(
        self, kind: str, *, key: str | None = None, repo_id: int | None = None
    ) -> list[Record]:
        """Records of ``kind`` in id order, filtered by the indexed columns that are given."""
        sql, args = "SELECT data FROM records WHERE kind = ?", list[object]([kind])
        if key is not None:
            sql, args = sql + " AND key = ?", [*args, key]
        if repo_id is not None:
            sql, args = sql + " AND repo_id = ?", [*args, repo_id]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [_load(row[0]) for row in rows]

    def find_one(self, kind: str, *, key: str, repo_id: int | None = None) -> Record | None:
        found = self.find(kind, key=key, repo_id=repo_id)
        return found[0] if found else None

    def update(self, kind: str, record: Record) -> Record:
        """Replace a record's data (matched by ``record["id"]``); returns it."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE records SET data = ? WHERE kind = ? AND id = ?",
                (json.dumps(record), kind, record["id"]),
            )
        if cur.rowcount != 1:
            raise KeyError(f"updating missing record kind={kind} id={record['id']}")
        return record

    def delete(self, kind: str, record_id: int) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            )
        return cur.rowcount == 1

    def next_value(self, name: str) -> int:
        """A named counter starting at 1, e.g. ``number:<repo_id>`` for issue/PR numbers."""
        with self._lock:
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1",
                (name,),
            )
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def get_meta(self, name: str, default: str) -> str:
        row = self._db_one("SELECT value FROM meta WHERE name = ?", (name,))
        return default if row is None else str(row)

    def set_meta(self, name: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def _db_one(self, sql: str, args: tuple[Any, ...]) -> Any:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return None if row is None else row[0]


def _load(text: str) -> Record:
    loaded: Record = json.loads(text)
    return loaded
