"""Group commit: the writes of concurrent requests share one transaction.

One transaction per request makes a commit, and the round trips around it, the price of every
request. Here a request hands its item over and waits; items that arrive while a batch is being
written go into the next batch. Under load a batch holds whatever queued meanwhile, at rest it
holds one item, so nobody waits for a timer. A batch that fails for a reason other than the
database being unavailable is retried item by item, so one bad item fails only its own request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.errors import is_infrastructure_failure

Item = TypeVar("Item")
Result = TypeVar("Result")
BatchWrite = Callable[[UnitOfWork, Sequence[Item]], Awaitable[Sequence[Result | Exception]]]
"""Writes a batch in the given unit of work (not committing) and returns one outcome per item:
its result, or the exception that item's submitter should see."""

_Entry = tuple[Item, "asyncio.Future[Result]"]


class GroupCommit(Generic[Item, Result]):
    """Batches concurrent submissions into one transaction each; `writers` batches in flight."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        write: BatchWrite[Item, Result],
        *,
        max_batch: int = 64,
        writers: int = 1,
    ) -> None:
        if max_batch < 1 or writers < 1:
            raise ValueError("max_batch and writers must be at least 1")
        self._unit_of_work = unit_of_work
        self._write = write
        self._max_batch = max_batch
        self._writers = writers
        self._pending: deque[_Entry[Item, Result]] = deque()
        self._flushers: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """The item's outcome once its batch is committed (or its exception)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        # Count running flushers by their state, not by the set: a flusher that has just seen
        # the queue empty is done at once, while its removal from the set comes a turn later.
        if sum(not flusher.done() for flusher in self._flushers) < self._writers:
            # A task of its own: a submitter that is cancelled must not abandon the others' batch.
            flusher = asyncio.create_task(self._flush(), name="group-commit")
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        return await future

    async def aclose(self) -> None:
        """Wait for every batch already submitted to be written."""
        while self._flushers:
            await asyncio.gather(*self._flushers, return_exceptions=True)

    async def _flush(self) -> None:
        while self._pending:
            size = min(len(self._pending), self._max_batch)
            batch = [self._pending.popleft() for _ in range(size)]
            try:
                await self._write_batch(batch)
            except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
                _settle_all(batch, exc if isinstance(exc, Exception) else RuntimeError("stopped"))
                raise

    async def _write_batch(self, batch: list[_Entry[Item, Result]]) -> None:
        try:
            outcomes = await self._commit([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or is_infrastructure_failure(exc):
                _settle_all(batch, exc)
                return
            for entry in batch:  # something in the batch is bad: find out which, alone
                await self._write_batch([entry])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)

    async def _commit(self, items: list[Item]) -> Sequence[Result | Exception]:
        async with self._unit_of_work() as uow:
            outcomes = await self._write(uow, items)
            await uow.commit()
        return outcomes


def _settle(future: asyncio.Future[Result], outcome: Result | Exception) -> None:
    if future.done():  # its submitter was cancelled; the item is committed all the same
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle_all(batch: list[_Entry[Item, Result]], exc: Exception) -> None:
    for _, future in batch:
        _settle(future, exc)
