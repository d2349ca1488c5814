"""CloudEvents 1.0 in Kafka binary mode.

The value is the event data as JSON; every other attribute travels as a `ce_` header. Keys and
headers carry only opaque identifiers (the aggregate UUID), never personal data, because brokers,
tools and logs expose them freely.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")

Headers = list[tuple[str, bytes]]


class MalformedEvent(ValueError):
    """A record that is not a valid CloudEvent; retrying cannot help."""


@dataclass(frozen=True, slots=True)
class Event:
    """One CloudEvent. `subject` is the aggregate id and also the Kafka key."""

    type: str
    source: str
    subject: uuid.UUID
    data: Mapping[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def key(self) -> bytes:
        return str(self.subject).encode()


def encode_data(data: Mapping[str, Any]) -> bytes:
    return orjson.dumps(data)


def to_headers(event: Event) -> Headers:
    """The binary-mode header list for `event` (trace context included when present)."""
    headers: Headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", str(event.id).encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
        ("ce_time", event.time.isoformat().encode()),
        ("ce_subject", str(event.subject).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if event.dataschema:
        headers.append(("ce_dataschema", event.dataschema.encode()))
    if event.traceparent:
        headers.append(("traceparent", event.traceparent.encode()))
    if event.tracestate:
        headers.append(("tracestate", event.tracestate.encode()))
    return headers


def header_map(headers: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    """Decode headers to text; the last value wins for a repeated name."""
    return {name: (value or b"").decode("utf-8", "replace") for name, value in headers}


def from_record(
    key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes | None]]
) -> Event:
    """Parse a Kafka record in binary mode, raising MalformedEvent with a reason."""
    meta = header_map(headers)
    missing = [n for n in ("ce_id", "ce_type", "ce_source", "ce_subject") if not meta.get(n)]
    if missing:
        raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    if meta.get("ce_specversion", SPEC_VERSION) != SPEC_VERSION:
        raise MalformedEvent(f"unsupported specversion {meta['ce_specversion']!r}")
    try:
        event_id = uuid.UUID(meta["ce_id"])
        subject = uuid.UUID(meta["ce_subject"])
        time = datetime.fromisoformat(meta["ce_time"]) if meta.get("ce_time") else datetime.now(UTC)
    except ValueError as exc:
        raise MalformedEvent(f"bad CloudEvents attribute: {type(exc).__name__}") from None
    try:
        data = orjson.loads(value or b"null")
    except orjson.JSONDecodeError:
        raise MalformedEvent("event data is not valid JSON") from None
    if not isinstance(data, dict):
        raise MalformedEvent("event data is not a JSON object")
    return Event(
        type=meta["ce_type"],
        source=meta["ce_source"],
        subject=subject,
        data=data,
        id=event_id,
        time=time,
        dataschema=meta.get("ce_dataschema") or None,
        traceparent=meta.get("traceparent") or None,
        tracestate=meta.get("tracestate") or None,
    )
