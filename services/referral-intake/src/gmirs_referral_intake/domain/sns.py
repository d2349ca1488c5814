"""Amazon SNS documents as they reach us, and the R&M envelope inside them.

One message reaches intake in one of three wrappings: an SNS Notification delivered into our
SQS queue (raw delivery off, the HMPPS convention), the same Notification pushed over HTTPS, or
a bare HMPPS envelope (an operator's replay). `envelope_from_text` unwraps any of them, so a
quarantined or pending message is re-read exactly as it was first read, whatever its source.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import orjson

from gmirs_referral_intake.domain.rm_envelope import RmEnvelope, parse_envelope, parse_envelope_json
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
MESSAGE_TYPES = frozenset({NOTIFICATION, SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION})

# The fields SNS signs, in the order the string to sign lists them (AWS SNS developer guide,
# "Verifying the signatures of Amazon SNS messages"). Subject is signed only when present.
_SIGNED_NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SIGNED_SUBSCRIPTION = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_OPTIONAL_SIGNED = frozenset({"Subject"})


class NotSignableError(ValueError):
    """The document lacks a field SNS signs, so it cannot be an SNS message."""


def load_json_object(raw: str | bytes, what: str) -> dict[str, Any]:
    """A JSON object, or UnusableMessageError naming `what` (never the content)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UnusableMessageError(f"{what}: not valid JSON") from None
    if not isinstance(data, dict):
        raise UnusableMessageError(f"{what}: not a JSON object")
    return data


def is_sns_document(data: Mapping[str, Any]) -> bool:
    """True for an SNS message (a known Type and a TopicArn); an HMPPS envelope has neither."""
    return data.get("Type") in MESSAGE_TYPES and "TopicArn" in data


def string_to_sign(data: Mapping[str, Any]) -> bytes:
    """The canonical text SNS signed: `name\\nvalue\\n` for each signed field, in order."""
    message_type = data.get("Type")
    names: tuple[str, ...]
    if message_type == NOTIFICATION:
        names = _SIGNED_NOTIFICATION
    elif message_type in (SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION):
        names = _SIGNED_SUBSCRIPTION
    else:
        raise NotSignableError("Type")
    lines: list[str] = []
    for name in names:
        value = data.get(name)
        if value is None and name in _OPTIONAL_SIGNED:
            continue
        if not isinstance(value, str):
            raise NotSignableError(name)
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode()


def envelope_from_text(raw: str | bytes, *, accepted_topics: Collection[str] = ()) -> RmEnvelope:
    """The R&M envelope in `raw`: an SNS Notification's Message, or `raw` itself when bare.

    `accepted_topics` (when not empty) are the only TopicArns a Notification may come from.
    """
    data = load_json_object(raw, "message")
    if not is_sns_document(data):
        return parse_envelope(data)
    if data.get("Type") != NOTIFICATION:
        raise UnusableMessageError("Type: an SNS message that is not a Notification")
    if accepted_topics and data.get("TopicArn") not in accepted_topics:
        raise UnusableMessageError("TopicArn: not an accepted topic")
    message = data.get("Message")
    if not isinstance(message, str):
        raise UnusableMessageError("Message: missing")
    return parse_envelope_json(message)
