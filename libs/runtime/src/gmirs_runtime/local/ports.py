"""Loopback port helpers, so local processes fail early with a clear message instead of a bind error in a log."""

from __future__ import annotations

import asyncio
import errno
import socket

LOOPBACK = "127.0.0.1"


class PortInUseError(RuntimeError):
    """A local process cannot start because its port is taken."""


def free_port() -> int:
    """Return a port on 127.0.0.1 that is free right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:port, tested by binding as a server would.

    SO_REUSEADDR (which servers set) keeps TIME_WAIT leftovers of a just-stopped server from counting as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
        return True


def port_accepts(port: int, *, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_port_free(port: int, what: str) -> None:
    """Raise PortInUseError naming `what` if 127.0.0.1:port is already taken."""
    if not port_is_free(port):
        raise PortInUseError(
            f"{what} cannot start: port {LOOPBACK}:{port} is already in use "
            f"(another process is listening; stop it, e.g. find it with `ss -ltnp 'sport = :{port}'`, "
            "or choose another port)"
        )


async def tcp_accepts(port: int) -> bool:
    """Async `port_accepts`: True if something accepts TCP connections on 127.0.0.1:port."""
    try:
        _, writer = await asyncio.open_connection(LOOPBACK, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
