"""The spool: append-only segment files that make a webhook delivery durable before it is
acknowledged (see docs/adr/0001-durable-sqlite-queue.md).

Each body is written to disk once, here; SQLite later keeps only an index row pointing at it.
Requests hand their record to one writer thread, a batch per event-loop pass; the thread
appends the batch, makes it durable with one ``fdatasync`` and then wakes the requests. The
event loop never waits on the disk. The writer lets go of the interpreter lock only a few
times per batch, never per record: each time a thread takes it back, the event loop may have
to wait for it.

A segment is ``<directory>/<number>.spool``, a run of batches, little-endian::

    batch:  b"PBS1" | crc32 (u32) | length of the records (u32) | their count (u32) | records
    record: meta length (u32) | body length (u32) | meta | body

The CRC covers the count and the records; ``meta`` is the caller's (the queue's JSON). A batch is
written, and acknowledged, whole. Each
process start writes a new segment, so a batch torn by a crash (never acknowledged) is always
the last of its segment, and reading a segment stops there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

log = logging.getLogger("bot.spool")

T = TypeVar("T")
_BATCH = struct.Struct("<4sIII")
_RECORD = struct.Struct("<II")
_COUNT = struct.Struct("<I")
_MAGIC = b"PBS1"
_SUFFIX = ".spool"
SEGMENT_BYTES = 64 << 20


class Position(NamedTuple):
    """A place in the spool: a segment and a byte offset in it (ordered)."""

    segment: int = 0
    offset: int = 0


_START = Position()


class Location(NamedTuple):
    """Where a record's body lies."""

    segment: int
    offset: int
    length: int

    @property
    def end(self) -> Position:
        """Where the next record starts."""
        return Position(self.segment, self.offset + self.length)


class SpoolError(Exception):
    """A body that cannot be read back: its segment is gone or shorter than the index says."""


def frame(meta: bytes, body: bytes) -> bytes:
    """The bytes that go before ``body`` in its batch."""
    return _RECORD.pack(len(meta), len(body)) + meta


def segment_path(directory: Path, number: int) -> Path:
    return directory / f"{number:010d}{_SUFFIX}"


def segment_numbers(directory: Path) -> list[int]:
    """The segments in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    names = (p.name.removesuffix(_SUFFIX) for p in directory.glob(f"*{_SUFFIX}"))
    return sorted(int(name) for name in names if name.isdigit())


def read_records(directory: Path, after: Position = _START) -> Iterator[tuple[bytes, Location]]:
    """``(meta, location)`` of every record from ``after`` (a batch's start) on, in order. A
    segment's reading stops at a torn or corrupt batch: the tail a crash left, never
    acknowledged."""
    for number in segment_numbers(directory):
        if number < after.segment:
            continue
        data = segment_path(directory, number).read_bytes()
        at = after.offset if number == after.segment else 0
        while at < len(data):
            batch = _batch_at(data, at, number)
            if batch is None:
                log.warning(
                    "spool segment=%d: dropping a torn batch at offset=%d (%d bytes); it was "
                    "never acknowledged",
                    number,
                    at,
                    len(data) - at,
                )
                break
            yield from batch
            at = batch[-1][1].offset + batch[-1][1].length


def _checksum(records: bytes | memoryview, count: int) -> int:
    return zlib.crc32(records, zlib.crc32(_COUNT.pack(count)))


def _batch_at(data: bytes, at: int, segment: int) -> list[tuple[bytes, Location]] | None:
    if len(data) - at < _BATCH.size:
        return None
    magic, crc, length, count = _BATCH.unpack_from(data, at)
    start, end = at + _BATCH.size, at + _BATCH.size + length
    if magic != _MAGIC or count == 0 or end > len(data):
        return None
    if _checksum(memoryview(data)[start:end], count) != crc:
        return None
    records = []
    at = start
    for _ in range(count):
        if at + _RECORD.size > end:
            return None
        meta_length, body_length = _RECORD.unpack_from(data, at)
        meta_start = at + _RECORD.size
        body_start = meta_start + meta_length
        records.append((data[meta_start:body_start], Location(segment, body_start, body_length)))
        at = body_start + body_length
    return records if at == end else None


def _write_all(fd: int, buffers: list[bytes]) -> None:
    """``writev``, finishing a short write (rare on a file, but allowed)."""
    written = os.writev(fd, buffers)
    if written < sum(map(len, buffers)):
        rest = memoryview(b"".join(buffers))[written:]
        while rest:
            rest = rest[os.write(fd, rest) :]


def _fsync_directory(directory: Path) -> None:
    """Make a new segment's name durable, not only its contents."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Waiting(NamedTuple, Generic[T]):
    head: bytes
    body: bytes
    tag: T
    done: asyncio.Future[None]


class Spool(Generic[T]):
    """Appends records to ``directory``; ``append`` returns once its record is on disk.

    ``on_synced`` runs on the writer thread with each durable batch, as ``(tag, location)``
    pairs, before the requests are woken: whoever reads after an acknowledgement can see it.
    """

    def __init__(
        self,
        directory: Path,
        on_synced: Callable[[list[tuple[T, Location]]], None],
        *,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        self._on_synced = on_synced
        self._segment_bytes = segment_bytes
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        existing = segment_numbers(directory)
        self.segment = (existing[-1] if existing else 0) + 1
        self._fd = -1
        self._size = 0
        self._closed = False
        self._lock = threading.Lock()
        self._waiting: list[_Waiting[T]] = []
        self._batches: queue.SimpleQueue[list[_Waiting[T]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
        self._thread.start()

    async def append(self, meta: bytes, body: bytes, tag: T) -> None:
        """Write ``meta`` and ``body`` durably; raises ``OSError`` when the disk refuses."""
        if self._closed:
            raise RuntimeError("the spool is closed")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        waiting = _Waiting(frame(meta, body), body, tag, done)
        with self._lock:
            first = not self._waiting
            self._waiting.append(waiting)
        if first:  # the requests read in this pass of the event loop go in one batch
            loop.call_soon(self._hand_over)
        await done

    def _hand_over(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        if batch:
            self._batches.put(batch)

    def read_body(self, location: Location) -> bytes:
        segment, offset, length = location
        try:
            with segment_path(self.directory, segment).open("rb") as file:
                file.seek(offset)
                body = file.read(length)
        except FileNotFoundError as err:
            raise SpoolError(f"spool segment={segment} is gone") from err
        if len(body) != length:
            raise SpoolError(f"spool segment={segment} ends before offset={offset + length}")
        return body

    def remove_segments(self, numbers: set[int]) -> None:
        """Delete segments nothing needs any more (never the one being written)."""
        for number in numbers - {self.segment}:
            segment_path(self.directory, number).unlink(missing_ok=True)

    def close(self) -> None:
        """Write what is waiting, then stop the writer thread."""
        self._closed = True
        self._hand_over()
        self._batches.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batches = [self._batches.get()]
            while not self._batches.empty():
                batches.append(self._batches.get_nowait())
            stopping = None in batches
            waiting = [item for batch in batches if batch is not None for item in batch]
            if waiting:
                self._sync(waiting)
        if self._fd >= 0:
            os.close(self._fd)

    def _sync(self, waiting: list[_Waiting[T]]) -> None:
        try:
            self._on_synced(self._write(waiting))
        except Exception as err:  # the disk refused: every request of the batch answers 503
            self._end_segment()
            _wake(waiting, err)
            return
        _wake(waiting, None)

    def _write(self, waiting: list[_Waiting[T]]) -> list[tuple[T, Location]]:
        # One copy and one checksum per batch: zlib lets go of the GIL once, not per record.
        records = b"".join([buffer for item in waiting for buffer in (item.head, item.body)])
        checksum = _checksum(records, len(waiting))
        header = _BATCH.pack(_MAGIC, checksum, len(records), len(waiting))
        if self._fd < 0 or (
            self._size and self._size + len(header) + len(records) > self._segment_bytes
        ):
            self._open_next()
        written = []
        at = self._size + len(header)
        for item in waiting:
            at += len(item.head)
            written.append((item.tag, Location(self.segment, at, len(item.body))))
            at += len(item.body)
        _write_all(self._fd, [header, records])
        self._size = at
        getattr(os, "fdatasync", os.fsync)(self._fd)  # macOS has no fdatasync
        return written

    def _open_next(self) -> None:
        if self._fd >= 0:
            self._end_segment()
        path = segment_path(self.directory, self.segment)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._size = 0
        _fsync_directory(self.directory)

    def _end_segment(self) -> None:
        """Close the segment; the next write opens a new one. After a failed write this keeps
        a partly written record at the end of its segment, where reading stops."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.segment += 1


def _wake(waiting: list[_Waiting[T]], error: Exception | None) -> None:
    """Settle the requests' futures on their own event loops, one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for item in waiting:
        by_loop.setdefault(item.done.get_loop(), []).append(item.done)
    for loop, futures in by_loop.items():
        if not loop.is_closed():
            loop.call_soon_threadsafe(_settle, futures, error)


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request went away; its record is stored all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
