"""SNS signature verification against certificates served over real HTTP on loopback.

Messages are signed here with a self-signed certificate made with `cryptography`, following
AWS's documented scheme, and also by the R&M simulator's independent signer.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import pytest_asyncio
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gmirs_referral_intake.adapters.sns_certificates import CertificateCache, FetchLimitError
from gmirs_referral_intake.adapters.sns_signature import (
    SnsSignatureError,
    SnsUnavailableError,
    SnsVerifier,
)
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError
from gmirs_referral_intake.domain.sns import envelope_from_text, string_to_sign
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.local.ports import free_port, tcp_accepts
from tests.fakes.rm_sns import SnsSigner, sns_timestamp

TOPIC = "arn:aws:sns:eu-west-2:000000000000:hmpps-domain-events"
ENVELOPE = {
    "eventType": "intervention.referral.sent",
    "version": 1,
    "description": "A referral has been sent to a Service Provider",
    "detailUrl": "https://rm.example/sent-referral/5a8a1f7e-7c5e-4f57-9a43-0e1e3c1e0b11",
    "occurredAt": "2026-11-23T10:15:30.123Z",
    "additionalInformation": {"referralId": "5a8a1f7e-7c5e-4f57-9a43-0e1e3c1e0b11"},
    "personReference": {"identifiers": [{"type": "CRN", "value": "X123456"}]},
}


def _certificate(key: rsa.RSAPrivateKey, *, valid_days: int = 30, age_days: int = 1) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
    start = datetime.now(UTC) - timedelta(days=age_days)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=valid_days))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class CertificateHost:
    """Serves certificates and a SubscribeURL on loopback, counting what is fetched."""

    base: str
    key: rsa.RSAPrivateKey
    files: dict[str, bytes]
    simulator: SnsSigner
    """The R&M simulator's signer: an independent implementation of SNS signing."""
    fetches: list[str] = field(default_factory=list)

    def url(self, name: str, host: str = "127.0.0.1") -> str:
        return self.base.replace("127.0.0.1", host) + "/" + name

    def sign(
        self,
        message: dict[str, Any],
        *,
        version: str = "2",
        cert: str = "good.pem",
        key: rsa.RSAPrivateKey | None = None,
    ) -> dict[str, Any]:
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signer = key or self.key
        signature = signer.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": self.url(cert),
        }

    async def serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.fetches.append(name)
        if name == "confirm":
            return Response("<ConfirmSubscriptionResponse/>", media_type="text/xml")
        if name not in self.files:
            return Response(status_code=404)
        return Response(self.files[name], media_type="application/x-pem-file")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cert_host() -> AsyncIterator[CertificateHost]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    simulator = SnsSigner("placeholder")
    files = {
        "good.pem": _certificate(key),
        "expired.pem": _certificate(key, valid_days=2, age_days=10),
        "other.pem": _certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "simulator.pem": simulator.certificate_pem,
    }
    port = free_port()
    host = CertificateHost(f"http://127.0.0.1:{port}", key, files, simulator)
    app = Starlette(routes=[Route("/{name}", host.serve, methods=["GET"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not await tcp_accepts(port):
                await asyncio.sleep(0.05)
        yield host
    finally:
        server.should_exit = True
        await task


@pytest_asyncio.fixture(loop_scope="session")
async def verifier(cert_host: CertificateHost) -> AsyncIterator[SnsVerifier]:
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False)
    yield verifier
    await verifier.aclose()


def _notification(message: str = "", subject: str | None = None) -> dict[str, Any]:
    body = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": message or orjson.dumps(ENVELOPE).decode(),
        "Timestamp": sns_timestamp(),
    }
    if subject is not None:
        body["Subject"] = subject
    return body


def _confirmation(host: CertificateHost) -> dict[str, Any]:
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e2425c464de12884c7",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": host.url("confirm"),
        "Timestamp": sns_timestamp(),
    }


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("subject", [None, "R&M event"])
async def test_a_signed_notification_verifies(
    cert_host: CertificateHost, verifier: SnsVerifier, version: str, subject: str | None
) -> None:
    await verifier.verify(cert_host.sign(_notification(subject=subject), version=version))


@pytest.mark.parametrize("field_name", ["Message", "MessageId", "Timestamp", "TopicArn", "Subject"])
async def test_any_signed_field_changed_after_signing_is_refused(
    cert_host: CertificateHost, verifier: SnsVerifier, field_name: str
) -> None:
    signed = cert_host.sign(_notification(subject="R&M event"))
    if field_name == "Timestamp":  # still a fresh time, so only the signature can refuse it
        signed[field_name] = sns_timestamp(datetime.now(UTC) - timedelta(seconds=1))
    else:
        signed[field_name] = signed[field_name] + " "
    with pytest.raises(SnsSignatureError, match="does not match"):
        await verifier.verify(signed)


async def test_a_signature_by_another_key_is_refused(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    signed = cert_host.sign(_notification(), cert="other.pem")
    with pytest.raises(SnsSignatureError, match="does not match"):
        await verifier.verify(signed)


async def test_a_certificate_from_a_host_not_allowed_is_never_fetched(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    signed = cert_host.sign(_notification())
    signed["SigningCertURL"] = cert_host.url("good.pem", host="localhost")
    before = len(cert_host.fetches)
    with pytest.raises(SnsSignatureError, match="SigningCertURL"):
        await verifier.verify(signed)
    assert len(cert_host.fetches) == before


async def test_http_certificates_are_refused_outside_development(
    cert_host: CertificateHost,
) -> None:
    with pytest.raises(ValueError, match="only https://sns"):
        SnsVerifier(allowed_origins=[cert_host.base], aws_only=True)


async def test_the_certificate_is_fetched_once_and_cached(cert_host: CertificateHost) -> None:
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False)
    try:
        before = cert_host.fetches.count("good.pem")
        await asyncio.gather(*(verifier.verify(cert_host.sign(_notification())) for _ in range(5)))
        assert cert_host.fetches.count("good.pem") == before + 1
    finally:
        await verifier.aclose()


async def test_an_expired_certificate_is_refused(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    with pytest.raises(SnsSignatureError, match="not valid now"):
        await verifier.verify(cert_host.sign(_notification(), cert="expired.pem"))


async def test_an_unreachable_certificate_is_unavailable_not_forged(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    with pytest.raises(SnsUnavailableError):
        await verifier.verify(cert_host.sign(_notification(), cert="missing.pem"))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"SignatureVersion": "3"}, "SignatureVersion"),
        ({"Signature": "not base64!"}, "base64"),
        ({"Signature": ""}, "Signature: missing"),
        ({"Timestamp": None}, "Timestamp: missing"),
    ],
)
async def test_malformed_signature_fields_are_refused(
    cert_host: CertificateHost, verifier: SnsVerifier, change: dict[str, Any], match: str
) -> None:
    signed = {**cert_host.sign(_notification()), **change}
    with pytest.raises(SnsSignatureError, match=match):
        await verifier.verify(signed)


async def test_a_subscription_confirmation_verifies_and_is_confirmed_on_an_allowed_host(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    message = cert_host.sign(_confirmation(cert_host))
    await verifier.verify(message)
    before = cert_host.fetches.count("confirm")
    await verifier.confirm_subscription(message["SubscribeURL"])
    assert cert_host.fetches.count("confirm") == before + 1
    with pytest.raises(SnsSignatureError, match="SubscribeURL"):
        await verifier.confirm_subscription(cert_host.url("confirm", host="localhost"))
    assert cert_host.fetches.count("confirm") == before + 1


async def test_the_r_and_m_simulators_independent_signer_verifies(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    signer = cert_host.simulator
    signer.certificate_url = cert_host.url("simulator.pem")
    for version in ("1", "2"):
        await verifier.verify(signer.sign(_notification(), version))
        tampered = signer.sign(_notification(), version)
        tampered["Message"] += " "
        with pytest.raises(SnsSignatureError):
            await verifier.verify(tampered)


def test_the_envelope_is_unwrapped_from_a_notification_or_read_bare() -> None:
    bare = orjson.dumps(ENVELOPE)
    wrapped = orjson.dumps(_notification(bare.decode()))
    assert envelope_from_text(wrapped, accepted_topics=[TOPIC]) == envelope_from_text(bare)
    with pytest.raises(UnusableMessageError, match="TopicArn"):
        envelope_from_text(wrapped, accepted_topics=["arn:aws:sns:eu-west-2:1:other"])
    with pytest.raises(UnusableMessageError, match="not valid JSON"):
        envelope_from_text(orjson.dumps(_notification("{not json")))
    confirmation = {**_notification(), "Type": "SubscriptionConfirmation"}
    with pytest.raises(UnusableMessageError, match="not a Notification"):
        envelope_from_text(orjson.dumps(confirmation))


def test_the_string_to_sign_follows_the_documented_order() -> None:
    message = _notification(message="m", subject="s")
    expected = (
        f"Message\nm\nMessageId\n{message['MessageId']}\nSubject\ns\n"
        f"Timestamp\n{message['Timestamp']}\nTopicArn\n{TOPIC}\nType\nNotification\n"
    )
    assert string_to_sign(message) == expected.encode()


async def test_the_allow_list_matches_scheme_host_and_port_exactly(
    cert_host: CertificateHost, verifier: SnsVerifier
) -> None:
    """A bare host once trusted every port on it: any local process could sign R&M events."""
    elsewhere = SnsSigner(cert_host.base.rsplit(":", 1)[0] + f":{free_port()}/good.pem")
    before = len(cert_host.fetches)
    with pytest.raises(SnsSignatureError, match="SigningCertURL"):
        await verifier.verify(elsewhere.sign(_notification(), "2"))
    https = {**cert_host.sign(_notification()), "SigningCertURL": cert_host.url("good.pem")}
    https["SigningCertURL"] = https["SigningCertURL"].replace("http://", "https://")
    with pytest.raises(SnsSignatureError, match="SigningCertURL"):
        await verifier.verify(https)
    assert len(cert_host.fetches) == before
    await verifier.verify(cert_host.sign(_notification()))  # the entry's own port matches


@pytest.mark.parametrize(
    "origin",
    [
        "https://sns.eu-west-2.amazonaws.com",
        "https://sns.us-gov-west-1.amazonaws.com:443",
        "https://sns.cn-north-1.amazonaws.com.cn",
    ],
)
def test_production_accepts_aws_sns_certificate_hosts(origin: str) -> None:
    settings = _production(sns_certificate_origins=[origin])
    assert settings.sns_certificate_origins == [origin]


@pytest.mark.parametrize(
    "origin",
    [
        "http://sns.eu-west-2.amazonaws.com",
        "https://sns.eu-west-2.amazonaws.com:8443",
        "https://sns.eu-west-2.amazonaws.com.attacker.example",
        "https://attacker.example/sns.eu-west-2.amazonaws.com",
        "https://s3.eu-west-2.amazonaws.com",
        "http://127.0.0.1:9000",
        "sns.eu-west-2.amazonaws.com",
    ],
)
def test_production_refuses_any_other_certificate_origin(origin: str) -> None:
    with pytest.raises(ValidationError, match="sns"):
        _production(sns_certificate_origins=[origin])


def _production(**overrides: Any) -> IntakeSettings:
    return IntakeSettings(
        environment="production",
        database_url="postgresql://intake:a-long-real-password@db.internal/gmirs",
        auth_issuer="https://auth.example",
        auth_jwks_url="https://auth.example/jwks",
        **overrides,
    )


@pytest.mark.parametrize(
    ("sent", "match"),
    [
        (timedelta(hours=-1, seconds=-5), "too old"),
        (timedelta(minutes=6), "in the future"),
        (None, "not an ISO 8601 time"),
    ],
)
async def test_a_stale_or_future_notification_is_refused_without_a_fetch(
    cert_host: CertificateHost, sent: timedelta | None, match: str
) -> None:
    stamp = "yesterday" if sent is None else sns_timestamp(datetime.now(UTC) + sent)
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False)  # nothing cached
    before = len(cert_host.fetches)
    try:
        with pytest.raises(SnsSignatureError, match=match):
            await verifier.verify(cert_host.sign({**_notification(), "Timestamp": stamp}))
    finally:
        await verifier.aclose()
    assert len(cert_host.fetches) == before


async def test_a_failed_certificate_fetch_is_cached_briefly(cert_host: CertificateHost) -> None:
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False)
    try:
        before = cert_host.fetches.count("absent.pem")
        for _ in range(5):
            with pytest.raises(SnsUnavailableError):
                await verifier.verify(cert_host.sign(_notification(), cert="absent.pem"))
        assert cert_host.fetches.count("absent.pem") == before + 1
    finally:
        await verifier.aclose()


async def test_certificate_fetches_are_capped_per_minute(cert_host: CertificateHost) -> None:
    fetched: list[str] = []

    async def download(url: str) -> bytes:
        fetched.append(url)
        return cert_host.files["good.pem"]

    cache = CertificateCache(download, fetches_per_minute=3)
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False, certificates=cache)
    try:
        for n in range(3):
            await verifier.verify(cert_host.sign(_notification(), cert=f"n{n}.pem"))
        with pytest.raises(FetchLimitError, match="too many"):
            await verifier.verify(cert_host.sign(_notification(), cert="n3.pem"))
        await verifier.verify(cert_host.sign(_notification(), cert="n0.pem"))  # still cached
        assert len(fetched) == 3
    finally:
        await verifier.aclose()


async def test_a_rotated_signing_key_is_fetched_once_more(cert_host: CertificateHost) -> None:
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert_host.files["rotating.pem"] = cert_host.files["good.pem"]
    cache = CertificateCache(_downloader(cert_host), refresh_after=0)
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False, certificates=cache)
    try:
        await verifier.verify(cert_host.sign(_notification(), cert="rotating.pem"))
        cert_host.files["rotating.pem"] = _certificate(new_key)  # SNS rotates its key
        rotated = cert_host.sign(_notification(), cert="rotating.pem", key=new_key)
        await verifier.verify(rotated)
        await verifier.verify(rotated)
        assert cert_host.fetches.count("rotating.pem") == 2
    finally:
        await verifier.aclose()


async def test_a_forged_signature_does_not_refetch_a_recent_certificate(
    cert_host: CertificateHost,
) -> None:
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False)
    before = cert_host.fetches.count("other.pem")
    try:
        for _ in range(5):
            with pytest.raises(SnsSignatureError, match="does not match"):
                await verifier.verify(cert_host.sign(_notification(), cert="other.pem"))
    finally:
        await verifier.aclose()
    assert cert_host.fetches.count("other.pem") == before + 1


def _downloader(cert_host: CertificateHost) -> Any:
    async def download(url: str) -> bytes:
        name = url.rsplit("/", 1)[1]
        cert_host.fetches.append(name)
        return cert_host.files[name]

    return download


async def test_a_flood_of_bad_certificate_urls_evicts_no_good_key(
    cert_host: CertificateHost,
) -> None:
    fetched: list[str] = []

    async def download(url: str) -> bytes:
        fetched.append(url)
        if url.endswith("/good.pem"):
            return cert_host.files["good.pem"]
        raise SnsUnavailableError("SigningCertURL: answered 404")

    cache = CertificateCache(download, max_cached=2, fetches_per_minute=10)
    verifier = SnsVerifier(allowed_origins=[cert_host.base], aws_only=False, certificates=cache)
    try:
        await verifier.verify(cert_host.sign(_notification()))
        for n in range(5):
            with pytest.raises(SnsUnavailableError):
                await verifier.verify(cert_host.sign(_notification(), cert=f"bad{n}.pem"))
        await verifier.verify(cert_host.sign(_notification()))
        assert fetched.count(cert_host.url("good.pem")) == 1
    finally:
        await verifier.aclose()
