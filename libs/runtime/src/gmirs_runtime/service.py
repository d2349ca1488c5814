"""Running a service process: its HTTP API and its background workers under one event loop.

Workers (the outbox relay, consumers, dispatchers) take a shared stop event. SIGTERM and SIGINT
set it; the API stops accepting requests, workers finish their current batch, then resources are
closed in reverse order. A worker that crashes stops the whole process with a non-zero exit, so a
supervisor restarts it rather than leaving a half-working service running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)

Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
Hook = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Service:
    """Everything one process runs; built by a service's bootstrap."""

    name: str
    app: FastAPI | None = None
    workers: dict[str, Worker] = field(default_factory=dict)
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)


class WorkerCrashedError(RuntimeError):
    """A background worker ended with an exception; the process must not carry on without it."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: the service owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(
    service: Service,
    *,
    host: str,
    port: int,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    grace_seconds: float = 20.0,
) -> None:
    """Run until `stop` is set (or a signal arrives); raise WorkerCrashedError if a worker fails."""
    stop = stop or asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    for hook in service.on_start:
        await hook()
    tasks = {
        asyncio.create_task(worker(stop), name=name): name
        for name, worker in service.workers.items()
    }
    server = _api_server(service.app, host, port) if service.app else None
    if server:
        tasks[asyncio.create_task(server.serve(), name="api")] = "api"
    crashed: list[str] = []
    try:
        await _until_stop_or_crash(stop, tasks, crashed)
    finally:
        stop.set()
        if server:
            server.should_exit = True
        await _drain(tasks, grace_seconds)
        for hook in reversed(service.on_stop):
            with contextlib.suppress(Exception):
                await hook()
    if crashed:
        raise WorkerCrashedError(f"{service.name}: worker(s) crashed: {', '.join(crashed)}")


def _api_server(app: FastAPI, host: str, port: int) -> _Server:
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="on"
    )
    return _Server(config)


async def _until_stop_or_crash(
    stop: asyncio.Event, tasks: dict[asyncio.Task[None], str], crashed: list[str]
) -> None:
    stopper: asyncio.Task[Any] = asyncio.create_task(stop.wait())
    try:
        pending: set[asyncio.Task[Any]] = {stopper, *tasks}
        while not stop.is_set():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is stopper:
                    continue
                name = tasks[task]
                if task.cancelled() or task.exception() is not None:
                    exc = None if task.cancelled() else task.exception()
                    log.error(
                        "worker crashed", extra={"worker": name, "error_class": type(exc).__name__}
                    )
                    crashed.append(name)
                    return
                if name == "api":
                    log.error("api server exited", extra={"worker": name})
                    crashed.append(name)
                    return
    finally:
        stopper.cancel()


async def _drain(tasks: dict[asyncio.Task[None], str], grace_seconds: float) -> None:
    running = [t for t in tasks if not t.done()]
    if running:
        _, late = await asyncio.wait(running, timeout=grace_seconds)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # mark retrieved; crashes were already reported
