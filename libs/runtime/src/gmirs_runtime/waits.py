"""Waiting for whichever comes first: a stop request, a wake-up, or a timeout.

Background workers (the outbox relay, dispatchers) sleep between polls but must react at once
to shutdown and to LISTEN/NOTIFY wake-ups; this is the one place that does it.
"""

from __future__ import annotations

import asyncio


async def first_of(*events: asyncio.Event | None, timeout: float) -> None:
    """Return when any of `events` is set, or after `timeout` seconds."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events if event is not None]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
