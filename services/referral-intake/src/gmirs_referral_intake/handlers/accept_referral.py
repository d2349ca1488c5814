"""Accept a usable referral exactly once and publish it for the hubs.

Every source gives a referral an external key (an idempotency key, an R&M referral id); the
first arrival creates the record and its event, later arrivals find the record and change
nothing. The same key with different content is a conflict, not a silent overwrite.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.registry import EVENTS
from gmirs_referral_intake.adapters.repository import ReferralRepository
from gmirs_referral_intake.adapters.tables import ReferralRecord
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_runtime.db import UnitOfWork

REFERRAL_RECEIVED = EVENTS["gmirs.intake.referral-received.v1"]


class ConflictingReferralError(Exception):
    """The external key was already used for a referral with different content."""


@dataclass(frozen=True, slots=True)
class AcceptReferral:
    source: str
    external_key: str
    referral: dict[str, Any]  # ReferralReceived fields other than id, source, time and hub


async def accept_referral(
    command: AcceptReferral, *, uow: UnitOfWork, routing: HubRouting
) -> tuple[ReferralRecord, bool]:
    """The intake record and whether this call created it."""
    repository = ReferralRepository(uow.session)
    fingerprint = _fingerprint(command.referral)
    record, event = _new_referral(command, routing, fingerprint)
    if not await repository.add(record):  # seen before: one statement decides, no read first
        existing = await repository.by_external_key(command.external_key)
        assert existing is not None
        return _same_or_conflict(existing, fingerprint), False
    uow.publish(REFERRAL_RECEIVED, event, aggregate_type="referral", aggregate_id=record.id)
    return record, True


def _new_referral(
    command: AcceptReferral, routing: HubRouting, fingerprint: str
) -> tuple[ReferralRecord, ReferralReceived]:
    now = datetime.now(UTC)
    data = command.referral
    hub = routing.route(
        probation_delivery_unit=data["probation_delivery_unit"],
        contract_reference=data.get("contract_reference"),
    )
    event = ReferralReceived.model_validate(
        {
            **data,
            "referral_id": uuid.uuid4(),
            "source": command.source,
            "received_at": now,
            "sent_at": data.get("sent_at") or now,  # a direct referral is sent when received
            "hub_id": hub,
        }
    )
    record = ReferralRecord(
        id=event.referral_id,
        source=command.source,
        external_key=command.external_key,
        fingerprint=fingerprint,
        hub_id=hub,
        probation_delivery_unit=event.probation_delivery_unit,
        received_at=now,
        referral=event.to_data(),
    )
    return record, event


def _same_or_conflict(record: ReferralRecord, fingerprint: str) -> ReferralRecord:
    if record.fingerprint != fingerprint:
        raise ConflictingReferralError(record.external_key)
    return record


def _fingerprint(referral: dict[str, Any]) -> str:
    canonical = orjson.dumps(referral, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()
