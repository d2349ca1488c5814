"""Proof that an HTTPS push really came from Amazon SNS: its signature, checked as AWS documents.

SNS cannot send a bearer token, so on the push endpoint the signature is the only credential.
The signing certificate is fetched from the message's SigningCertURL only when that URL is
https (http is tolerated in local and test, where the R&M simulator signs) on an allow-listed
host, so a forger cannot point us at a certificate of their own. Certificates are cached: SNS
signs with few of them and fetching one per message would make the certificate host a
bottleneck. Version 1 signatures are SHA1withRSA, version 2 SHA256withRSA.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import OrderedDict
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gmirs_referral_intake.domain.sns import NotSignableError, string_to_sign

if TYPE_CHECKING:
    from gmirs_referral_intake.settings import IntakeSettings

_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
MAX_CERTIFICATE_BYTES = 64 * 1024


class SnsSignatureError(Exception):
    """The message is not provably from SNS (answer 403; process nothing)."""


class SnsUnavailableError(Exception):
    """A certificate or subscription URL could not be fetched (answer 503 so that SNS retries)."""


class SnsVerifier:
    """Verifies SNS message signatures and confirms subscriptions; call `aclose()` when done."""

    def __init__(
        self,
        *,
        allowed_hosts: Collection[str],
        allow_http: bool = False,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        max_cached: int = 16,
    ) -> None:
        self._hosts = frozenset(host.lower() for host in allowed_hosts)
        self._schemes = frozenset({"https", "http"} if allow_http else {"https"})
        self._http = http or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._owns_http = http is None
        self._keys: OrderedDict[str, tuple[rsa.RSAPublicKey, datetime]] = OrderedDict()
        self._max_cached = max_cached
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: IntakeSettings) -> SnsVerifier:
        return cls(
            allowed_hosts=settings.sns_certificate_hosts,
            allow_http=settings.is_development,
            timeout=settings.rm_timeout_seconds,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def allowed_url(self, url: object) -> str | None:
        """`url` if its scheme and host are allowed and it carries no credentials, else None."""
        if not isinstance(url, str):
            return None
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in self._schemes or host not in self._hosts or "@" in parts.netloc:
            return None
        return url

    async def verify(self, message: Mapping[str, Any]) -> None:
        """Return if `message` carries a valid SNS signature; raise SnsSignatureError if not."""
        algorithm = _HASHES.get(str(message.get("SignatureVersion")))
        if algorithm is None:
            raise SnsSignatureError("SignatureVersion: unsupported")
        signature = _signature(message.get("Signature"))
        try:
            signed = string_to_sign(message)
        except NotSignableError as exc:
            raise SnsSignatureError(f"{exc}: missing") from None
        url = self.allowed_url(message.get("SigningCertURL"))
        if url is None or not urlsplit(url).path.endswith(".pem"):
            raise SnsSignatureError("SigningCertURL: not an allowed SNS certificate URL")
        key = await self._public_key(url)
        try:
            key.verify(signature, signed, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise SnsSignatureError("Signature: does not match") from None

    async def confirm_subscription(self, subscribe_url: object) -> None:
        """Visit a SubscriptionConfirmation's SubscribeURL (only on an allowed host)."""
        url = self.allowed_url(subscribe_url)
        if url is None:
            raise SnsSignatureError("SubscribeURL: not an allowed SNS URL")
        await self._get(url, "SubscribeURL")

    async def _public_key(self, url: str) -> rsa.RSAPublicKey:
        """The certificate's key, from the cache until the certificate expires."""
        cached = self._keys.get(url)
        if cached is None or cached[1] < datetime.now(UTC):
            async with self._lock:  # concurrent first messages fetch the certificate once
                cached = self._keys.get(url)
                if cached is None or cached[1] < datetime.now(UTC):
                    cached = _rsa_key(await self._download(url))
                    self._keys[url] = cached
                    while len(self._keys) > self._max_cached:
                        self._keys.popitem(last=False)
        return cached[0]

    async def _download(self, url: str) -> bytes:
        response = await self._get(url, "SigningCertURL")
        if len(response.content) > MAX_CERTIFICATE_BYTES:
            raise SnsSignatureError("SigningCertURL: not a certificate")
        return response.content

    async def _get(self, url: str, what: str) -> httpx.Response:
        """GET an SNS URL; SnsUnavailableError (naming `what`) unless it answers 200."""
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise SnsUnavailableError(f"{what}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SnsUnavailableError(f"{what}: answered {response.status_code}")
        return response


def _signature(value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise SnsSignatureError("Signature: missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SnsSignatureError("Signature: not base64") from None


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
