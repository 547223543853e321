"""Group commit, for both queue engines' ``accept_delivery``: the items submitted in one
event-loop pass, and those that arrive while a commit runs, are written together, so one durable
commit (one fsync) acknowledges a burst (docs/adr/0002-sqlite-job-table-and-postgresql.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Hands what waits to ``write`` (one transaction for a batch; per item, whether it was new),
    with at most ``writers`` batches in flight."""

    def __init__(self, write: Callable[[list[T]], Awaitable[list[bool]]], writers: int) -> None:
        self._write = write
        self._writers = writers
        self._waiting: list[tuple[T, asyncio.Future[bool]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> bool:
        """Whether ``item`` was new, once its batch is committed; the batch's error otherwise."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if len(self._running) < self._writers:  # it starts next pass: this pass's items go too
            self._running.add(asyncio.create_task(self._write_all()))
        return await done

    async def close(self) -> None:
        """Wait for the batches still being written."""
        await asyncio.gather(*self._running)

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    outcome: list[bool] | Exception = await self._write([item for item, _ in batch])
                except Exception as err:  # nothing of the batch is stored: each answer says so
                    outcome = err
                for place, (_, done) in enumerate(batch):
                    if done.done():  # a request whose client went away is cancelled
                        continue
                    if isinstance(outcome, Exception):
                        done.set_exception(outcome)
                    else:
                        done.set_result(outcome[place])
        finally:  # no await since the queue was seen empty: no item is left waiting unseen
            self._running.discard(cast("asyncio.Task[None]", asyncio.current_task()))
