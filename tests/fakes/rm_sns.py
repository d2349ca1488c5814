"""How the simulator reaches consumers: publish to an SNS topic (moto), or push a signed SNS HTTP message.

Signing follows AWS's documented scheme, so intake's verifier is tested against an independent
signer: the canonical string is `key\\nvalue\\n` for each signed key in order (Notification:
Message, MessageId, Subject if present, Timestamp, TopicArn, Type; confirmations: Message, MessageId,
SubscribeURL, Timestamp, Token, TopicArn, Type), signed RSA PKCS#1 v1.5 with SHA-256 for
SignatureVersion "2" or SHA-1 for "1". The certificate is self-signed and served by the simulator.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiobotocore.session import get_session  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SIGNED_KEYS: Mapping[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        *("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    ),
    "UnsubscribeConfirmation": (
        *("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    ),
}
_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
USER_AGENT = "Amazon Simple Notification Service Agent"


def canonical_string(message: Mapping[str, Any]) -> bytes:
    """The bytes SNS signs for `message` (keys absent from the message are skipped)."""
    keys = SIGNED_KEYS[str(message["Type"])]
    return "".join(f"{k}\n{message[k]}\n" for k in keys if k in message).encode()


def sns_timestamp(moment: datetime | None = None) -> str:
    """SNS's Timestamp: UTC, milliseconds, `Z`."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SnsSigner:
    """An RSA key with a self-signed certificate, published at `certificate_url`."""

    def __init__(self, certificate_url: str, common_name: str = "sns.rm-simulator.test") -> None:
        self.certificate_url = certificate_url
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        start = datetime.now(UTC) - timedelta(days=1)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=366))
            .sign(self._key, hashes.SHA256())
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        """`message` plus SignatureVersion, Signature and SigningCertURL."""
        digest = _HASHES[version]()
        signature = self._key.sign(canonical_string(message), padding.PKCS1v15(), digest)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": self.certificate_url,
        }


def verify(message: Mapping[str, Any], certificate_pem: bytes) -> bool:
    """Check a signed SNS message against a PEM certificate (what a careful consumer does)."""
    version = str(message.get("SignatureVersion"))
    if version not in _HASHES or str(message.get("Type")) not in SIGNED_KEYS:
        return False
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        signature = base64.b64decode(str(message["Signature"]), validate=True)
        data = canonical_string(message)
        public_key.verify(signature, data, padding.PKCS1v15(), _HASHES[version]())
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True


@dataclass(frozen=True)
class SnsTarget:
    """An SNS topic on an AWS-compatible endpoint (moto locally)."""

    topic_arn: str
    endpoint_url: str
    access_key: str = "testing"
    secret_key: str = "testing"

    @property
    def region(self) -> str:
        return self.topic_arn.split(":")[3]


class SnsPublisher:
    """Publishes to a topic with the `eventType` message attribute HMPPS filter policies match on."""

    def __init__(self, target: SnsTarget) -> None:
        self.target = target
        self._session = get_session()  # loads service models once, then clients are cheap

    async def publish(self, message: str, event_type: str | None) -> str:
        attributes = {}
        if event_type is not None:
            attributes["eventType"] = {"DataType": "String", "StringValue": event_type}
        async with self._session.create_client(
            "sns",
            region_name=self.target.region,
            endpoint_url=self.target.endpoint_url,
            aws_access_key_id=self.target.access_key,
            aws_secret_access_key=self.target.secret_key,
        ) as sns:
            response = await sns.publish(
                TopicArn=self.target.topic_arn, Message=message, MessageAttributes=attributes
            )
        return str(response["MessageId"])


class SnsPusher:
    """Delivers SNS HTTP(S) messages to one subscriber URL, as SNS does for an http subscription."""

    def __init__(self, push_url: str, topic_arn: str, signer: SnsSigner, base_url: str) -> None:
        self.push_url = push_url
        self.topic_arn = topic_arn
        self.signer = signer
        self.subscription_arn = f"{topic_arn}:{uuid.uuid4()}"
        self.unsubscribe_url = (
            f"{base_url}/_sns/?Action=Unsubscribe&SubscriptionArn={self.subscription_arn}"
        )

    def notification(
        self, message: str, event_type: str | None, *, version: str, tamper: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": self.topic_arn,
            "Message": message,
            "Timestamp": sns_timestamp(),
        }
        signed = self.signer.sign(body, version)
        signed["UnsubscribeURL"] = self.unsubscribe_url
        if event_type is not None:
            signed["MessageAttributes"] = {"eventType": {"Type": "String", "Value": event_type}}
        if tamper:  # changed after signing, as an attacker in the middle would
            signed["Message"] = message + " "  # still valid JSON: only the signature can tell
        return signed

    def confirmation(self, subscribe_url: str, token: str, *, version: str) -> dict[str, Any]:
        body = {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": self.topic_arn,
            "Message": f"You have chosen to subscribe to the topic {self.topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": subscribe_url,
            "Timestamp": sns_timestamp(),
        }
        return self.signer.sign(body, version)

    async def push(self, body: Mapping[str, Any]) -> int:
        """POST one message; the subscriber's status code (raises httpx errors on no answer)."""
        headers = {
            "x-amz-sns-message-type": str(body["Type"]),
            "x-amz-sns-message-id": str(body["MessageId"]),
            "x-amz-sns-topic-arn": self.topic_arn,
            "content-type": "text/plain; charset=UTF-8",
            "user-agent": USER_AGENT,
        }
        if body["Type"] == "Notification":
            headers["x-amz-sns-subscription-arn"] = self.subscription_arn
        async with httpx.AsyncClient(timeout=10.0) as http:
            response = await http.post(self.push_url, content=json.dumps(body), headers=headers)
        return response.status_code
