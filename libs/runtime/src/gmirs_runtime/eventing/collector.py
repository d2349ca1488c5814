"""Pausing Python's cyclic garbage collector while a batch of events is worked on.

A batch of a few thousand events allocates some hundred thousand objects (envelopes, payload
models, fact rows) that all live until the batch is written. The cyclic collector counts
allocations, not garbage: it would scan those objects dozens of times per batch, promoting
them into older generations until a full collection scans the whole heap, though none of them
is garbage (they are freed by reference counting when the batch ends). In the metrics
projection that was over a third of the CPU spent per event. While any batch is in progress
the collector is paused; it runs as usual between batches and while a batch waits out an
outage (`collector_resumed`), so cyclic garbage is only put off, never for long.

The pause is process-wide (the collector is) and counted, so batches of several consumers in
one process may overlap: the collector resumes when the last one ends, and only if it was
enabled when the first one began.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    active = 0
    resume = False


def _pause() -> None:
    if _Pauses.active == 0:
        _Pauses.resume = gc.isenabled()
        gc.disable()
    _Pauses.active += 1


def _unpause() -> None:
    _Pauses.active -= 1
    if _Pauses.active == 0 and _Pauses.resume:
        gc.enable()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the duration (nestable, across awaits and consumers)."""
    _pause()
    try:
        yield
    finally:
        _unpause()


@contextmanager
def collector_resumed() -> Iterator[None]:
    """Within `collector_paused`, give up this pause while waiting (an outage's backoff, which
    may last minutes): the rest of the process's cyclic garbage is collected meanwhile."""
    _unpause()
    try:
        yield
    finally:
        _pause()
