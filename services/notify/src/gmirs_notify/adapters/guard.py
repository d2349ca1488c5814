"""SSRF checks that involve the network: DNS resolution, and a transport that vets each connection.

Checking a URL once at registration is not enough (its name can later resolve elsewhere), and
checking a name before httpx resolves it again leaves a gap (DNS rebinding). So the HTTP client's
network backend resolves the name itself, vets every address, and connects to a vetted address;
TLS still verifies the certificate against the original host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

from gmirs_notify.domain.targets import (
    IPAddress,
    TargetPolicy,
    TargetRefusedError,
    WebhookTarget,
    check_addresses,
    parse_target,
)


async def resolve(host: str, port: int, timeout: float | None = None) -> list[IPAddress]:
    """Every address `host` resolves to (TargetRefusedError if it resolves to none)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, TimeoutError):
        raise TargetRefusedError(f"{host} cannot be resolved") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def vet_url(url: str, policy: TargetPolicy) -> WebhookTarget:
    """Check a URL and, for a host name, every address it resolves to now."""
    target = parse_target(url, policy)
    if target.address is None:
        check_addresses(target.host, await resolve(target.host, target.port), policy)
    return target


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, resolving names itself."""

    def __init__(self, policy: TargetPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port, timeout)
        check_addresses(host, addresses, self._policy)
        error: Exception = httpcore.ConnectError(f"no address of {host} accepted the connection")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefusedError("webhooks are never sent over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with a guarded network backend, no proxies and no environment config.

    httpx offers no public hook for the network backend, so the connection pool is rebuilt here;
    a test sends to a refused address to prove the guard is in the path.
    """

    def __init__(self, policy: TargetPolicy, *, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )
