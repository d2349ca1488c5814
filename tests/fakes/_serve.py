"""Serve a fake's ASGI app on loopback until told to stop, its parent dies, or its lifetime ends.

A fake started by a test run must never outlive it: if pytest is killed, nobody sends SIGTERM, so
the server also watches its parent process and a hard lifetime limit.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

import uvicorn
from starlette.types import ASGIApp

DEFAULT_MAX_LIFETIME_S = 3600.0
_WATCH_INTERVAL_S = 0.5


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every fake program shares."""
    parser.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    parser.add_argument(
        "--max-lifetime-s",
        type=float,
        default=DEFAULT_MAX_LIFETIME_S,
        help="exit after this many seconds even if nobody stops the process",
    )


def serve(app: ASGIApp, *, port: int, max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S) -> None:
    """Run `app` under uvicorn on 127.0.0.1:`port` in the foreground."""
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        http="h11",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    deadline = time.monotonic() + max_lifetime_s
    watchdog = threading.Thread(
        target=_watch, args=(server, os.getppid(), deadline), name="fake-watchdog", daemon=True
    )
    watchdog.start()
    server.run()


def _watch(server: uvicorn.Server, parent_pid: int, deadline: float) -> None:
    """Ask the server to exit once the parent is gone or the lifetime is over."""
    while not server.should_exit:
        if os.getppid() != parent_pid or time.monotonic() >= deadline:
            server.should_exit = True
            return
        time.sleep(_WATCH_INTERVAL_S)
