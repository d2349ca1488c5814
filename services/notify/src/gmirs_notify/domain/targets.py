"""Which webhook URLs notify may call: the defence against server-side request forgery (SSRF).

A subscriber chooses the URL, so without a policy anyone allowed to register one could make notify
POST into our own network (cloud metadata at 169.254.169.254, databases, admin ports). Outside
development only https URLs whose every address is publicly routable are accepted; the same check
runs again at delivery time on the addresses actually connected to, because DNS can change.

An IPv6 address that carries an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4, Teredo)
is judged by the IPv4 address too, since a translator or relay delivers the request there; and an
all-numeric host in any spelling the C resolver accepts (`2130706433`, `0x7f000001`, `0177.0.0.1`,
`127.1`) is read as the IPv4 address it means, so it is refused before any lookup.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: never globally routable
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d (RFC 4291 2.5.5.1)


class TargetRefusedError(ValueError):
    """A URL or address notify will not call; the message is safe to show to the subscriber."""


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """What a webhook target may be. Production: https and public addresses only."""

    require_https: bool
    allow_loopback: bool
    allow_private: bool

    @classmethod
    def production(cls) -> TargetPolicy:
        return cls(require_https=True, allow_loopback=False, allow_private=False)

    @classmethod
    def development(cls, *, allow_private: bool = False) -> TargetPolicy:
        """Local and test stacks: plain http and loopback (the fakes), private only if asked."""
        return cls(require_https=False, allow_loopback=True, allow_private=allow_private)


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int

    @property
    def address(self) -> IPAddress | None:
        """The host as an IP address when the URL names one directly (no DNS needed)."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return numeric_ipv4(self.host)


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address an all-numeric host means to inet_aton(3), or None if it is a name.

    One to four parts, each decimal, octal (leading 0) or hex (0x); the last part fills the
    remaining bytes, so `127.1` is 127.0.0.1 and `2130706433` is 127.0.0.1 too.
    """
    parts = host.rstrip(".").split(".") if host else []
    if not 1 <= len(parts) <= 4:
        return None
    values = [_inet_aton_part(part) for part in parts]
    if any(value is None for value in values):
        return None
    numbers = [value for value in values if value is not None]
    *leading, last = numbers
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    packed = 0
    for value in leading:
        packed = packed << 8 | value
    return ipaddress.IPv4Address(packed << (8 * (5 - len(numbers))) | last)


def _inet_aton_part(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:], 16) if lowered[2:] else 0
        if lowered.startswith("0") and len(lowered) > 1:
            return int(lowered[1:], 8)
        return int(lowered, 10) if lowered.isdigit() else None
    except ValueError:
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo client)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN or address in NAT64_LOCAL_USE or _ipv4_compatible(address):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def parse_target(url: str, policy: TargetPolicy) -> WebhookTarget:
    """Check the URL's form (scheme, host, no credentials) and, for IP literals, the address."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefusedError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url.strip())
    allowed_schemes = ("https",) if policy.require_https else ("https", "http")
    if parts.scheme not in allowed_schemes:
        raise TargetRefusedError(f"the URL must use {' or '.join(allowed_schemes)}")
    if parts.username is not None or parts.password is not None:
        raise TargetRefusedError("the URL must not contain credentials")
    host = parts.hostname
    if not host:
        raise TargetRefusedError("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefusedError("the URL's port is not valid") from None
    target = WebhookTarget(scheme=parts.scheme, host=host, port=port)
    if target.address is not None:
        check_address(target.address, policy)
    return target


def check_address(address: IPAddress, policy: TargetPolicy) -> None:
    """Refuse an address the policy does not allow (loopback, private, link-local, reserved...).

    An IPv6 address carrying an IPv4 one must pass for both; only the mapped and NAT64 forms,
    which are that IPv4 address on the wire, are judged by it alone. The local-use NAT64 prefix
    and IPv4-compatible forms are never public (Python 3.11 counts them global: it is told here).
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            try:
                _check_one(inner, policy)
            except TargetRefusedError as exc:
                raise TargetRefusedError(f"{address} carries {inner}: {exc}") from None
            if address.ipv4_mapped is not None or address in NAT64_WELL_KNOWN:
                return
            if not policy.allow_private and (
                address in NAT64_LOCAL_USE or _ipv4_compatible(address)
            ):
                raise TargetRefusedError(f"{address} is a private or reserved address")
    _check_one(address, policy)


def _ipv4_compatible(address: ipaddress.IPv6Address) -> bool:
    return address in IPV4_COMPATIBLE and int(address) > 1  # not :: or ::1


def _check_one(address: IPAddress, policy: TargetPolicy) -> None:
    if address.is_unspecified or address.is_multicast:
        raise TargetRefusedError(f"{address} is not a unicast address")
    if address.is_loopback:
        if policy.allow_loopback:
            return
        raise TargetRefusedError(f"{address} is a loopback address")
    if not address.is_global and not policy.allow_private:
        kind = "link-local" if address.is_link_local else "private or reserved"
        raise TargetRefusedError(f"{address} is a {kind} address")


def check_addresses(host: str, addresses: list[IPAddress], policy: TargetPolicy) -> None:
    """Every address a name resolves to must be allowed: one bad answer refuses the name."""
    if not addresses:
        raise TargetRefusedError(f"{host} does not resolve to any address")
    for address in addresses:
        try:
            check_address(address, policy)
        except TargetRefusedError as exc:
            raise TargetRefusedError(f"{host} resolves to a refused address: {exc}") from None
