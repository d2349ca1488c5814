"""Which webhook URLs notify may call: the defence against server-side request forgery (SSRF).

A subscriber chooses the URL, so without a policy anyone allowed to register one could make notify
POST into our own network (cloud metadata at 169.254.169.254, databases, admin ports). Outside
development only https URLs whose every address is publicly routable are accepted; the same check
runs again at delivery time on the addresses actually connected to, because DNS can change.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048


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
    """Refuse an address the policy does not allow (loopback, private, link-local, reserved...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
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
