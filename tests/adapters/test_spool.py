"""The spool: its format read back, batching, torn tails, segments, failures and closing."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from bot.adapters import spool
from bot.adapters.spool import Location, Position, Spool, SpoolError, read_records, segment_numbers

Record = tuple[bytes, bytes]  # (meta, body); the meta is also the record's tag
Damage = Callable[[bytes, int], bytes]  # (a segment's bytes, where its last batch starts)

# A batch of one record(n), n < 10: batch header 16, record header 8, meta 2, body 6.
BATCH_OF_ONE = 32
LAST_BATCH = 16 + 2 * (8 + 2 + 6)  # where record(3) starts after record(1) and record(2)


def record(n: int, body: bytes | None = None) -> Record:
    return b"m%d" % n, b"body-%d" % n if body is None else body


def metas(records: Sequence[tuple[bytes, object]]) -> list[bytes]:
    return [meta for meta, _ in records]


class Spools:
    """Spools on one directory that report their durable records to ``synced``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.synced: list[tuple[bytes, Location]] = []
        self.opened: list[Spool[bytes]] = []

    def open(self, segment_bytes: int = spool.SEGMENT_BYTES) -> Spool[bytes]:
        self.opened.append(Spool(self.directory, self.synced.extend, segment_bytes=segment_bytes))
        return self.opened[-1]

    async def write(self, s: Spool[bytes], batches: list[list[Record]]) -> list[Location]:
        """Append each batch's records concurrently, batch after batch; their locations."""

        async def append(meta: bytes, body: bytes) -> Location:
            await s.append(meta, body, meta)
            reported = dict(self.synced)
            assert meta in reported  # on_synced ran before append returned
            return reported[meta]

        locations: list[Location] = []
        for batch in batches:
            locations += await asyncio.gather(*(append(meta, body) for meta, body in batch))
        return locations

    def stored(self, after: Position | None = None) -> list[bytes]:
        return [meta for meta, _ in read_records(self.directory, after or Position())]


@pytest.fixture
def spools(tmp_path: Path) -> Iterator[Spools]:
    spools = Spools(tmp_path / "spool")
    yield spools
    for each in spools.opened:
        each.close()


ROUND_TRIPS = {
    "one": [[record(1)]],
    "sequential": [[record(1)], [record(2)], [record(3)]],
    "concurrent": [[record(1), record(2), record(3), record(4)]],
    "mixed": [[record(1)], [record(2), record(3)], [record(4)], [record(5), record(6)]],
    "empty-and-1MiB": [[(b"", b""), record(1, b"")], [record(2, os.urandom(1 << 20))]],
}


@pytest.mark.parametrize("batches", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
async def test_records_read_back_in_order_with_their_exact_bytes(
    spools: Spools, batches: list[list[Record]]
) -> None:
    s = spools.open()
    locations = await spools.write(s, batches)
    records = [r for batch in batches for r in batch]
    expected = list(zip(metas(records), locations, strict=True))
    assert list(read_records(spools.directory)) == spools.synced == expected
    assert [s.read_body(location) for location in locations] == [body for _, body in records]


@pytest.mark.parametrize(
    ("gathered", "syncs"), [(True, 1), (False, 8)], ids=["gathered", "awaited"]
)
async def test_appends_of_one_event_loop_pass_share_one_fdatasync(
    spools: Spools, monkeypatch: pytest.MonkeyPatch, gathered: bool, syncs: int
) -> None:
    calls: list[int] = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    records = [record(n) for n in range(8)]
    await spools.write(spools.open(), [records] if gathered else [[r] for r in records])
    assert len(calls) == syncs


def cut(at: int) -> Damage:
    return lambda data, start: data[: start + at if at >= 0 else len(data) + at]


def flip(at: int) -> Damage:
    def damage(data: bytes, start: int) -> bytes:
        i = start + at if at >= 0 else len(data) + at
        return data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1 :]

    return damage


def zeroed(length: int | None) -> Damage:
    """The last batch's blocks never written: zeros where it was (``length`` of them)."""
    return lambda data, start: data[:start] + bytes(len(data) - start if length is None else length)


# In the last batch: batch header [0, 16), record header [16, 24), meta [24, 26), body [26, 32).
DAMAGES: dict[str, Damage] = {
    "cut-in-batch-header": cut(5),
    "cut-after-batch-header": cut(16),
    "cut-in-record-header": cut(19),
    "cut-in-meta": cut(25),
    "cut-in-body": cut(29),
    "one-byte-short": cut(-1),
    "flip-magic": flip(0),
    "flip-crc": flip(5),
    "flip-length": flip(8),
    "flip-in-record-header": flip(17),
    "flip-in-meta": flip(24),
    "flip-in-body": flip(28),
    "flip-last-byte": flip(-1),
    "zeroed-batch": zeroed(None),
    "zeroed-page": zeroed(4096),
    "zeros-shorter-than-a-header": zeroed(7),
}


async def spool_then_damage(spools: Spools, damage: Damage) -> None:
    """record(1) and record(2) in one batch, record(3) alone in the last; then the damage."""
    s = spools.open()
    await spools.write(s, [[record(1), record(2)], [record(3)]])
    s.close()  # the process stops (or dies)
    path = spool.segment_path(spools.directory, 1)
    data = path.read_bytes()
    assert len(data) == LAST_BATCH + BATCH_OF_ONE
    path.write_bytes(damage(data, LAST_BATCH))


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
async def test_a_torn_or_corrupt_last_batch_is_dropped_and_earlier_ones_kept(
    spools: Spools, caplog: pytest.LogCaptureFixture, damage: Damage
) -> None:
    await spool_then_damage(spools, damage)
    with caplog.at_level(logging.WARNING, logger="bot.spool"):
        assert spools.stored() == [b"m1", b"m2"]
    assert f"segment=1: dropping a torn batch at offset={LAST_BATCH}" in caplog.text
    await spools.write(spools.open(), [[record(4)]])  # the next start: a new segment
    assert spools.stored() == [b"m1", b"m2", b"m4"]


@pytest.mark.parametrize(
    ("batch_at", "kept"), [(LAST_BATCH, [b"m1", b"m2"]), (0, [])], ids=["last", "earlier"]
)
async def test_a_batch_whose_count_is_corrupt_is_dropped(
    spools: Spools, caplog: pytest.LogCaptureFixture, batch_at: int, kept: list[bytes]
) -> None:
    def one_more(data: bytes, _: int) -> bytes:
        (count,) = struct.unpack_from("<I", data, batch_at + 12)
        return data[: batch_at + 12] + struct.pack("<I", count + 1) + data[batch_at + 16 :]

    await spool_then_damage(spools, one_more)
    with caplog.at_level(logging.WARNING, logger="bot.spool"):
        assert spools.stored() == kept
    assert f"dropping a torn batch at offset={batch_at}" in caplog.text


@pytest.mark.parametrize("after", range(-1, 5), ids=lambda i: f"after-{i}" if i >= 0 else "start")
async def test_reading_from_a_position_across_rotated_segments(spools: Spools, after: int) -> None:
    records = [record(n) for n in range(5)]
    locations = await spools.write(spools.open(2 * BATCH_OF_ONE), [[r] for r in records])
    assert [location.segment for location in locations] == [1, 1, 2, 2, 3]
    assert segment_numbers(spools.directory) == [1, 2, 3]
    position = locations[after].end if after >= 0 else None
    assert spools.stored(position) == metas(records)[after + 1 :]


async def test_each_start_writes_a_new_segment_after_the_existing_ones(spools: Spools) -> None:
    for n in range(1, 4):
        s = spools.open()
        assert s.segment == n
        await spools.write(s, [[record(n)], [record(n + 10)]])
        s.close()
    assert spools.open().segment == 4  # no file until it writes
    assert segment_numbers(spools.directory) == [1, 2, 3]
    assert spools.stored() == [b"m1", b"m11", b"m2", b"m12", b"m3", b"m13"]


@pytest.mark.parametrize("before", [0, 2], ids=["first-write", "after-two-batches"])
async def test_a_refused_write_fails_its_whole_batch_and_the_next_goes_to_a_new_segment(
    spools: Spools, monkeypatch: pytest.MonkeyPatch, before: int
) -> None:
    s = spools.open()
    earlier = [record(n) for n in range(before)]
    await spools.write(s, [[r] for r in earlier])

    def refuse(fd: int, buffers: list[bytes]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool, "_write_all", refuse)
    refused = [record(n) for n in range(5, 8)]
    errors = await asyncio.gather(*(s.append(m, b, m) for m, b in refused), return_exceptions=True)
    assert [getattr(err, "errno", err) for err in errors] == [errno.ENOSPC] * len(refused)
    monkeypatch.undo()

    (later,) = await spools.write(s, [[record(9)]])
    assert later.segment == 2
    assert spools.stored() == metas(spools.synced) == [*metas(earlier), b"m9"]
    assert s.read_body(later) == b"body-9"


async def test_removing_segments_spares_the_one_being_written(spools: Spools) -> None:
    s = spools.open(2 * BATCH_OF_ONE)
    await spools.write(s, [[record(n)] for n in range(5)])
    assert (segment_numbers(spools.directory), s.segment) == ([1, 2, 3], 3)
    s.remove_segments({1, 2, 3, 7})
    assert segment_numbers(spools.directory) == [3]
    (location,) = await spools.write(s, [[record(5)]])
    assert location.segment == 3
    assert spools.stored() == [b"m4", b"m5"]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (Location(99, 0, 1), "spool segment=99 is gone"),
        (Location(1, 0, 10_000), "spool segment=1 ends before offset=10000"),
        (Location(1, 10_000, 1), "spool segment=1 ends before offset=10001"),
        (Location(1, LAST_BATCH - 5, 6), f"spool segment=1 ends before offset={LAST_BATCH + 1}"),
    ],
    ids=["missing-segment", "too-long", "offset-past-the-end", "one-byte-past-the-end"],
)
async def test_reading_a_body_the_spool_does_not_hold_is_an_error(
    spools: Spools, location: Location, message: str
) -> None:
    s = spools.open()
    await spools.write(s, [[record(1), record(2)]])  # segment 1 is LAST_BATCH bytes long
    with pytest.raises(SpoolError, match=f"^{message}$"):
        s.read_body(location)


@pytest.mark.parametrize("waiting", [0, 1, 3])
async def test_close_writes_what_is_waiting_and_stops_the_writer(
    spools: Spools, waiting: int
) -> None:
    s = spools.open()
    records = [record(n) for n in range(waiting)]
    appends = [asyncio.create_task(s.append(m, b, m)) for m, b in records]
    await asyncio.sleep(0)  # the appends are waiting for their batch, not handed over yet
    s.close()
    assert not s._thread.is_alive()
    assert spools.stored() == metas(records)
    await asyncio.wait_for(asyncio.gather(*appends), timeout=5)  # and they were answered
