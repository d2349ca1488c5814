"""Port helpers: a taken port is reported by name before any process tries (and fails) to bind it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gmirs_runtime.local.ports import (
    PortInUseError,
    ensure_port_free,
    free_port,
    port_accepts,
    port_is_free,
    tcp_accepts,
)


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_free_port_is_free_and_accepts_nothing() -> None:
    port = free_port()
    assert port_is_free(port)
    assert not port_accepts(port)
    ensure_port_free(port, "Anything")


def test_port_in_use_gives_a_clear_message(listening_port: int) -> None:
    assert not port_is_free(listening_port)
    with pytest.raises(PortInUseError) as caught:
        ensure_port_free(listening_port, "PostgreSQL")
    assert str(caught.value).startswith(
        f"PostgreSQL cannot start: port 127.0.0.1:{listening_port} is already in use"
    )


async def test_tcp_accepts_sees_a_listener(listening_port: int) -> None:
    assert await tcp_accepts(listening_port)
    assert port_accepts(listening_port)
    assert not await tcp_accepts(free_port())
