"""SNS signing keys by certificate URL, fetched as rarely as an unauthenticated caller allows.

Anyone can POST /rm/sns, and each message names the certificate to check it with, so fetches
are bounded: a URL's result is cached (a failure for `failure_ttl` seconds, a certificate until
it expires), one fetch per URL is in flight at a time, and at most `fetches_per_minute` fetches
start in any minute (beyond that the message is answered 503 and SNS retries it). A key that
stops verifying may be refetched (the signer rotated it), but not sooner than `refresh_after`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

Download = Callable[[str], Awaitable[bytes]]


class SnsSignatureError(Exception):
    """The message is not provably from SNS (answer 403; process nothing)."""


class SnsUnavailableError(Exception):
    """A certificate or subscription URL could not be fetched (answer 503 so that SNS retries)."""


class FetchLimitError(SnsUnavailableError):
    """Too many certificate fetches this minute: try later (never cached)."""


@dataclass(frozen=True)
class _Entry:
    fetched_at: float  # monotonic
    key: rsa.RSAPublicKey | None = None
    expires: datetime | None = None
    error: Exception | None = None


class CertificateCache:
    def __init__(
        self,
        download: Download,
        *,
        max_cached: int = 16,
        failure_ttl: float = 30.0,
        refresh_after: float = 60.0,
        fetches_per_minute: int = 30,
    ) -> None:
        self._download = download
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._failures: OrderedDict[str, _Entry] = OrderedDict()
        self._in_flight: dict[str, asyncio.Future[_Entry]] = {}
        self._started: deque[float] = deque()
        self._max_cached = max_cached
        self._failure_ttl = failure_ttl
        self._refresh_after = refresh_after
        self._per_minute = fetches_per_minute

    async def key(self, url: str) -> rsa.RSAPublicKey:
        """The key of the certificate at `url`, from the cache while the cached answer holds."""
        entry = self._cached(url)
        if entry is None or not self._still_good(entry):
            entry = await self._fetch_once(url)
        return _key_or_raise(entry)

    async def refreshed_key(self, url: str) -> rsa.RSAPublicKey | None:
        """A freshly fetched key, or None if the cached one was fetched too recently to refetch."""
        entry = self._cached(url)
        if entry is not None and time.monotonic() - entry.fetched_at < self._refresh_after:
            return None
        return _key_or_raise(await self._fetch_once(url))

    def _still_good(self, entry: _Entry) -> bool:
        if entry.error is not None:
            return time.monotonic() - entry.fetched_at < self._failure_ttl
        return entry.expires is not None and datetime.now(UTC) <= entry.expires

    async def _fetch_once(self, url: str) -> _Entry:
        """Join the fetch of `url` in flight, or start one."""
        future = self._in_flight.get(url)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._in_flight[url] = future
            try:
                future.set_result(await self._fetch(url))
            except asyncio.CancelledError:
                future.cancel()
                raise
            except Exception as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: nobody else may be waiting
            finally:
                del self._in_flight[url]
        return await asyncio.shield(future)

    async def _fetch(self, url: str) -> _Entry:
        self._count_a_fetch()
        try:
            key, expires = _rsa_key(await self._download(url))
        except (SnsSignatureError, SnsUnavailableError) as exc:
            entry = _Entry(time.monotonic(), error=exc)
        else:
            entry = _Entry(time.monotonic(), key=key, expires=expires)
        self._keep(url, entry)
        return entry

    def _keep(self, url: str, entry: _Entry) -> None:
        """Cache `entry`; failures are bounded apart, so a flood of bad URLs evicts no good key."""
        self._entries.pop(url, None)
        self._failures.pop(url, None)
        cache = self._failures if entry.error is not None else self._entries
        cache[url] = entry
        while len(cache) > self._max_cached:
            cache.popitem(last=False)

    def _cached(self, url: str) -> _Entry | None:
        return self._entries.get(url) or self._failures.get(url)

    def _count_a_fetch(self) -> None:
        now = time.monotonic()
        while self._started and now - self._started[0] >= 60:
            self._started.popleft()
        if len(self._started) >= self._per_minute:
            raise FetchLimitError("SigningCertURL: too many certificate fetches, try later")
        self._started.append(now)


def _key_or_raise(entry: _Entry) -> rsa.RSAPublicKey:
    if entry.error is not None:
        raise entry.error
    assert entry.key is not None
    return entry.key


def _rsa_key(pem: bytes) -> tuple[rsa.RSAPublicKey, datetime]:
    """The RSA key of a PEM certificate that is valid now, and when the certificate expires."""
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise SnsSignatureError("SigningCertURL: not a certificate") from None
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SnsSignatureError("SigningCertURL: certificate not valid now")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsSignatureError("SigningCertURL: not an RSA certificate")
    return key, certificate.not_valid_after_utc
