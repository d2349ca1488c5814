"""Where an SNS signing certificate (or a SubscribeURL) may come from: an exact origin.

An origin is scheme, host and port, all three matched exactly: a host alone would trust every
port on it (any local process could serve its own certificate), and a port written in the
allow-list would never match. Outside local and test only Amazon SNS's own certificate hosts are
acceptable, over https on the default port, as AWS's signature verification guidance requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}
AWS_SNS_HOST = re.compile(r"^sns\.[a-z]{2}(?:-[a-z]+)+-[0-9]+\.amazonaws\.com(?:\.cn)?$")
"""`sns.<region>.amazonaws.com`, and `.amazonaws.com.cn` in the China regions."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def is_aws_sns(self) -> bool:
        return self.scheme == "https" and self.port == 443 and bool(AWS_SNS_HOST.match(self.host))


def origin_of(url: object) -> Origin | None:
    """The origin of an absolute http(s) URL without credentials, else None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    return Origin(scheme, host, port or _DEFAULT_PORTS[scheme])


def parse_origin(entry: str, *, aws_only: bool) -> Origin:
    """An allow-list entry (`scheme://host[:port]`, nothing after it); ValueError says why not."""
    origin = origin_of(entry)
    if origin is None or urlsplit(entry).path not in ("", "/") or "?" in entry or "#" in entry:
        raise ValueError(f"{entry!r}: not an origin like https://sns.eu-west-2.amazonaws.com")
    if aws_only and not origin.is_aws_sns:
        raise ValueError(f"{entry!r}: only https://sns.<region>.amazonaws.com outside local/test")
    return origin
