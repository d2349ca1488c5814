"""The HMPPS domain-event envelope R&M publishes, parsed strictly enough to trust and no further.

The envelope carries no event id and SNS MessageIds survive only SNS's own retries, so an event's
identity is derived from its content: the same event delivered twice (by SQS, by HTTPS push, by
an operator's replay) gets the same identity however its fields were spelled or ordered. Older
spellings of additional-information keys are mapped to the current ones first, for that reason.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import orjson

from gmirs_referral_intake.domain.rm_errors import UnusableMessageError

RM_EVENT_TYPES: tuple[str, ...] = (
    "intervention.referral.sent",
    "intervention.referral.assigned",
    "intervention.action-plan.submitted",
    "intervention.action-plan.approved",
    "intervention.initial-assessment-appointment.attended",
    "intervention.initial-assessment-appointment.missed",
    "intervention.initial-assessment-appointment.session-feedback-submitted",
    "intervention.session-appointment.attended",
    "intervention.session-appointment.missed",
    "intervention.session-appointment.session-feedback-submitted",
    "intervention.end-of-service-report.submitted",
    "intervention.referral.ended",
    "intervention.referral.concluded",
)
"""Every R&M event type intake consumes (the SQS subscription's filter policy lists the same)."""

SUPPORTED_VERSIONS = frozenset({1})
IDENTITY_NAMESPACE = uuid.UUID("3f0c5d2e-8a41-5b7c-9e6f-1d2a3b4c5d6e")
"""uuid5 namespace of R&M event identities; changing it would re-admit every event ever seen."""

_OLDER_KEYS = MappingProxyType(
    {"contractType": "contractTypeName", "providerName": "primeProviderName"}
)
_CRN = re.compile(r"^[A-Z][0-9]{6}$")
_REFERRAL_PATH = re.compile(r"/(?:sent-referral|referral)/(?P<id>[0-9a-fA-F-]{36})(?:/|$)")


@dataclass(frozen=True)
class RmEnvelope:
    """One R&M domain event as published (thin: the detail is fetched from `detail_url`)."""

    event_type: str
    version: int
    description: str
    detail_url: str
    occurred_at: datetime
    additional_information: Mapping[str, str] = field(default_factory=dict)
    crn: str | None = None

    @property
    def identity(self) -> uuid.UUID:
        """Stable across SNS retries, re-publications and replays of the same event."""
        canonical = {
            "eventType": self.event_type,
            "detailUrl": self.detail_url,
            "occurredAt": self.occurred_at.astimezone(UTC).isoformat(),
            "additionalInformation": dict(sorted(self.additional_information.items())),
        }
        text = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS).decode()
        return uuid.uuid5(IDENTITY_NAMESPACE, text)

    @property
    def rm_referral_id(self) -> uuid.UUID | None:
        """The R&M referral, when the envelope names it (action plans and reports may not)."""
        raw = self.additional_information.get("referralId")
        if raw:
            try:
                return uuid.UUID(raw)
            except ValueError:
                return None
        match = _REFERRAL_PATH.search(urlsplit(self.detail_url).path)
        return uuid.UUID(match["id"]) if match else None


def parse_envelope_json(raw: str | bytes) -> RmEnvelope:
    """`parse_envelope` of a JSON text (an SNS Message, an HTTP body, a quarantined message)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UnusableMessageError("envelope: not valid JSON") from None
    if not isinstance(data, dict):
        raise UnusableMessageError("envelope: not a JSON object")
    return parse_envelope(data)


def parse_envelope(raw: Mapping[str, Any]) -> RmEnvelope:
    """Validate an envelope; UnusableMessageError names the first field that is wrong."""
    event_type = raw.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise UnusableMessageError("eventType: missing")
    if event_type not in RM_EVENT_TYPES:
        raise UnusableMessageError("eventType: not an R&M event type intake consumes")
    version = raw.get("version", 1)
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or version not in SUPPORTED_VERSIONS
    ):
        raise UnusableMessageError("version: unsupported")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise UnusableMessageError("description: not a string")
    return RmEnvelope(
        event_type=event_type,
        version=version,
        description=description,
        detail_url=_detail_url(raw.get("detailUrl")),
        occurred_at=_occurred_at(raw.get("occurredAt")),
        additional_information=_additional_information(raw.get("additionalInformation")),
        crn=_crn(raw.get("personReference")),
    )


def _detail_url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise UnusableMessageError("detailUrl: missing")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UnusableMessageError("detailUrl: not an absolute http(s) URL")
    return value


def _occurred_at(value: Any) -> datetime:
    if not isinstance(value, str):
        raise UnusableMessageError("occurredAt: missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UnusableMessageError("occurredAt: not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise UnusableMessageError("occurredAt: no UTC offset")
    return parsed.astimezone(UTC)


def _additional_information(value: Any) -> Mapping[str, str]:
    """A flat map of text; older key names renamed, numbers as text, nulls dropped."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise UnusableMessageError("additionalInformation: not an object")
    result: dict[str, str] = {}
    for key, item in value.items():
        name = _OLDER_KEYS.get(key, key)
        if item is None:
            continue
        if isinstance(item, bool):
            result[name] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            result[name] = str(item)
        else:
            raise UnusableMessageError(f"additionalInformation.{name}: not a flat value")
    return MappingProxyType(result)


def _crn(value: Any) -> str:
    """The CRN from personReference.identifiers (R&M sends a CRN and nothing else)."""
    if not isinstance(value, dict):
        raise UnusableMessageError("personReference: missing")
    identifiers = value.get("identifiers")
    if not isinstance(identifiers, list):
        raise UnusableMessageError("personReference.identifiers: missing")
    for identifier in identifiers:
        if isinstance(identifier, dict) and identifier.get("type") == "CRN":
            crn = identifier.get("value")
            if not isinstance(crn, str) or not _CRN.match(crn):
                raise UnusableMessageError("personReference.identifiers.CRN: malformed")
            return crn
    raise UnusableMessageError("personReference.identifiers: no CRN")
