"""Proof that an HTTPS push really came from Amazon SNS: its signature, checked as AWS documents.

SNS cannot send a bearer token, so on the push endpoint the signature is the only credential.
The signing certificate is fetched from the message's SigningCertURL only when that URL's origin
(scheme, host and port, exactly) is allow-listed and its path ends in `.pem`, so a forger cannot
point us at a certificate of their own; outside local and test only AWS's own SNS hosts over
https are allowed (settings refuse anything else). A notification whose Timestamp is older than
`max_age` (a replay) or from the future is refused. Keys are cached and fetches bounded (see
adapters/sns_certificates.py). Version 1 signatures are SHA1withRSA, version 2 SHA256withRSA.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gmirs_referral_intake.adapters.sns_certificates import (
    CertificateCache,
    SnsSignatureError,
    SnsUnavailableError,
)
from gmirs_referral_intake.domain.sns import NotSignableError, string_to_sign
from gmirs_referral_intake.domain.sns_origins import origin_of, parse_origin

if TYPE_CHECKING:
    from gmirs_referral_intake.settings import IntakeSettings

__all__ = ["SnsSignatureError", "SnsUnavailableError", "SnsVerifier"]

_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
MAX_CERTIFICATE_BYTES = 64 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of our clock a Timestamp may be (clock skew), no further."""


class SnsVerifier:
    """Verifies SNS message signatures and confirms subscriptions; call `aclose()` when done."""

    def __init__(
        self,
        *,
        allowed_origins: Collection[str],
        aws_only: bool = True,
        max_age: timedelta = timedelta(hours=1),
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        certificates: CertificateCache | None = None,
    ) -> None:
        self._origins = frozenset(parse_origin(o, aws_only=aws_only) for o in allowed_origins)
        self._max_age = max_age
        self._http = http or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._owns_http = http is None
        self._certificates = certificates or CertificateCache(self._download)

    @classmethod
    def from_settings(cls, settings: IntakeSettings) -> SnsVerifier:
        return cls(
            allowed_origins=settings.sns_certificate_origins,
            aws_only=not settings.is_development,
            max_age=timedelta(seconds=settings.sns_max_message_age_seconds),
            timeout=settings.rm_timeout_seconds,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def allowed_url(self, url: object) -> str | None:
        """`url` if its origin is allow-listed exactly and it carries no credentials, else None."""
        if isinstance(url, str) and origin_of(url) in self._origins:
            return url
        return None

    async def verify(self, message: Mapping[str, Any]) -> None:
        """Return if `message` carries a valid, fresh SNS signature; raise SnsSignatureError if not."""
        algorithm = _HASHES.get(str(message.get("SignatureVersion")))
        if algorithm is None:
            raise SnsSignatureError("SignatureVersion: unsupported")
        signature = _signature(message.get("Signature"))
        try:
            signed = string_to_sign(message)
        except NotSignableError as exc:
            raise SnsSignatureError(f"{exc}: missing") from None
        self._check_fresh(message.get("Timestamp"))
        url = self.allowed_url(message.get("SigningCertURL"))
        if url is None or not urlsplit(url).path.endswith(".pem"):
            raise SnsSignatureError("SigningCertURL: not an allowed SNS certificate URL")
        if _verifies(await self._certificates.key(url), signature, signed, algorithm):
            return
        rotated = await self._certificates.refreshed_key(url)  # the signer may have a new key
        if rotated is None or not _verifies(rotated, signature, signed, algorithm):
            raise SnsSignatureError("Signature: does not match")

    async def confirm_subscription(self, subscribe_url: object) -> None:
        """Visit a SubscriptionConfirmation's SubscribeURL (only on an allowed origin)."""
        url = self.allowed_url(subscribe_url)
        if url is None:
            raise SnsSignatureError("SubscribeURL: not an allowed SNS URL")
        await self._get(url, "SubscribeURL")

    def _check_fresh(self, timestamp: object) -> None:
        """Refuse a replay of an old message, and a Timestamp from the future."""
        try:
            sent = datetime.fromisoformat(str(timestamp))
        except ValueError:
            raise SnsSignatureError("Timestamp: not an ISO 8601 time") from None
        if sent.tzinfo is None:
            raise SnsSignatureError("Timestamp: no time zone")
        age = datetime.now(UTC) - sent
        if age > self._max_age:
            raise SnsSignatureError("Timestamp: too old (a replay?)")
        if age < -FUTURE_TOLERANCE:
            raise SnsSignatureError("Timestamp: in the future")

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


def _verifies(
    key: rsa.RSAPublicKey, signature: bytes, signed: bytes, algorithm: type[hashes.HashAlgorithm]
) -> bool:
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        return False
    return True


def _signature(value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise SnsSignatureError("Signature: missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SnsSignatureError("Signature: not base64") from None
