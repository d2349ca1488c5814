"""A connection pool that hands a returned connection to the longest waiter, never to a newcomer.

SQLAlchemy's asyncio pool keeps idle connections in an `asyncio.Queue`. A returned connection
wakes the first waiter, but any task that asks before that waiter runs takes the connection
first (the queue hands out whatever is there, and SQLAlchemy tries without waiting first), and
the woken waiter queues again at the back. With more requests wanting a connection than the
pool holds, as under load on a busy core, one request could lose every round: the caseload
bench saw requests wait the pool's whole 30 s timeout and answer 500 while connections were
coming back many times a second. Here a returned connection goes straight to the first waiter
(its future is given the connection), and nobody takes an idle one while anyone waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

T = TypeVar("T")


class FairQueue(AsyncAdaptedQueue[T]):
    """The pool's queue of idle connections, first come first served."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[T]] = deque()

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a waiter that gave up (timed out, cancelled) is passed over
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def get_nowait(self) -> T:
        if any(not waiter.done() for waiter in self._waiters):
            raise Empty()  # what is idle is promised to those already waiting
        return super().get_nowait()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        try:
            return self.get_nowait()
        except Empty:
            if not block:
                raise
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            item: T = await_(self._wait(waiter, timeout))
        except TimeoutError as error:
            raise Empty() from error
        return item

    async def _wait(self, waiter: asyncio.Future[T], timeout: float | None) -> T:
        try:
            return await asyncio.wait_for(waiter, timeout)
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over just as we gave up: pass it on
            raise


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool with the first-come-first-served queue above."""

    _queue_class: Any = FairQueue
