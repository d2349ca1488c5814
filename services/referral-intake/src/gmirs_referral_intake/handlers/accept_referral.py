"""Accept usable referrals exactly once and publish them for the hubs.

Every source gives a referral an external key (an idempotency key, an R&M referral id, a pilot
row); the first arrival creates the record and its event, later arrivals find the record and
change nothing. The same key with different content is a conflict, not a silent overwrite.

A referral also carries R&M's reference number when it has one, and that number names one
referral whichever way it came in (an R&M event, a direct entry, the pilot import). Creating a
referral with a number takes a lock on it and looks for an existing holder first, so a direct
referral racing R&M's own event for the same referral still ends as one referral.

Referrals are accepted in batches (one transaction for the requests that arrived together, see
gmirs_runtime.group_commit); a single referral is a batch of one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry.context import Context

from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.registry import EVENTS
from gmirs_referral_intake.adapters.repository import ReferralRepository
from gmirs_referral_intake.adapters.tables import Referral
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_runtime.db import UnitOfWork

REFERRAL_RECEIVED = EVENTS["gmirs.intake.referral-received.v1"]


class ConflictingReferralError(Exception):
    """The external key was already used for a referral with different content."""


class ConcurrentAcceptError(Exception):
    """Another transaction created a referral this batch relied on: accept them one by one."""


@dataclass(frozen=True, slots=True)
class AcceptReferral:
    source: str
    external_key: str
    referral: dict[str, Any]  # ReferralReceived fields other than id, source, time and hub
    trace: Context | None = None  # the request it came in (its event continues that trace)


@dataclass(frozen=True, slots=True)
class Accepted:
    record: Referral
    created: bool  # False: an earlier arrival (same key, or same reference number) holds it


@dataclass(frozen=True, slots=True)
class _New:
    command: AcceptReferral
    record: Referral
    event: ReferralReceived


async def accept_referral(
    command: AcceptReferral, *, uow: UnitOfWork, routing: HubRouting
) -> tuple[Referral, bool]:
    """The intake record and whether this call created it (raises ConflictingReferralError)."""
    (outcome,) = await accept_referrals([command], uow=uow, routing=routing)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome.record, outcome.created


async def accept_referrals(
    commands: Sequence[AcceptReferral], *, uow: UnitOfWork, routing: HubRouting
) -> list[Accepted | Exception]:
    """One outcome per command, in order; the caller commits. Invalid data raises for the batch."""
    repository = ReferralRepository(uow.session)
    new = [_new_referral(command, routing) for command in commands]
    holders = await _holders_of_reference_numbers(repository, new)
    outcomes: dict[int, Accepted | Exception] = {}
    first_of_key: dict[str, int] = {}
    inserts: dict[str, int] = {}
    matched: dict[str, int] = {}
    for index, item in enumerate(new):
        key, reference = item.command.external_key, item.event.reference_number
        holder = holders.get(reference) if reference is not None else None
        if key in first_of_key:
            continue  # the same key twice in one batch: answered as its first arrival, below
        first_of_key[key] = index
        if holder is not None and holder.external_key == key:  # this very referral, again
            outcomes[index] = _same_or_conflict(holder, item.record.fingerprint)
        elif holder is not None:  # held under another key, unless this key was used before
            outcomes[index] = Accepted(holder, created=False)
            matched[key] = index
        else:
            inserts[key] = index
            if reference is not None:
                holders[reference] = item.record
    if matched:  # rare: the key's own earlier answer comes first (same referral, or a conflict)
        for key, earlier in (await repository.by_external_keys(matched.keys())).items():
            index = matched[key]
            outcomes[index] = _same_or_conflict(earlier, new[index].record.fingerprint)
    # Insert first: a key seen before loses the insert and is looked up, so the usual case
    # (a new referral) costs no read.
    created = await repository.add_all([new[i].record for i in inserts.values()])
    if lost := inserts.keys() - created:  # accepted before (or concurrently) under these keys
        await _answer_lost(repository, new, {key: inserts.pop(key) for key in lost}, outcomes)
    for index in inserts.values():
        item = new[index]
        uow.publish(
            REFERRAL_RECEIVED,
            item.record.referral,  # the event's data, dumped once
            aggregate_type="referral",
            aggregate_id=item.record.id,
            trace_context=item.command.trace,
        )
        outcomes[index] = Accepted(item.record, created=True)
    return [
        outcomes[index] if index in outcomes else _as_repeat(new, index, first_of_key, outcomes)
        for index in range(len(new))
    ]


async def _answer_lost(
    repository: ReferralRepository,
    new: list[_New],
    lost: dict[str, int],
    outcomes: dict[int, Accepted | Exception],
) -> None:
    """Answer keys accepted before as repeats of the committed referral.

    If another item of this batch took its reference number from one of them (whose insert did
    not happen), the batch cannot be answered as is: the group commit retries it item by item.
    """
    unwritten = {id(new[index].record) for index in lost.values()}
    if any(isinstance(o, Accepted) and id(o.record) in unwritten for o in outcomes.values()):
        raise ConcurrentAcceptError("a referral this batch matched was created elsewhere")
    found = await repository.by_external_keys(lost.keys())
    for key, index in lost.items():
        outcomes[index] = _same_or_conflict(found[key], new[index].record.fingerprint)


def _as_repeat(
    new: list[_New],
    index: int,
    first_of_key: dict[str, int],
    outcomes: dict[int, Accepted | Exception],
) -> Accepted | Exception:
    """A key repeated within a batch gets its first arrival's answer, as if it came just after."""
    item = new[index]
    first = first_of_key[item.command.external_key]
    answer = outcomes[first]
    if new[first].record.fingerprint != item.record.fingerprint:
        return ConflictingReferralError(item.command.external_key)
    return Accepted(answer.record, created=False) if isinstance(answer, Accepted) else answer


async def _holders_of_reference_numbers(
    repository: ReferralRepository, new: list[_New]
) -> dict[str, Referral]:
    """Under a lock per number: the referral already holding each reference number."""
    references = {n.event.reference_number for n in new if n.event.reference_number is not None}
    if not references:
        return {}
    await repository.lock_reference_numbers(references)
    return await repository.first_by_reference_numbers(references)


def _new_referral(command: AcceptReferral, routing: HubRouting) -> _New:
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
    record = Referral(
        id=event.referral_id,
        source=command.source,
        external_key=command.external_key,
        fingerprint=_fingerprint(data),
        hub_id=hub,
        probation_delivery_unit=event.probation_delivery_unit,
        received_at=now,
        referral=event.to_data(),
    )
    return _New(command, record, event)


def _same_or_conflict(record: Referral, fingerprint: str) -> Accepted | Exception:
    if record.fingerprint != fingerprint:
        return ConflictingReferralError(record.external_key)
    return Accepted(record, created=False)


def _fingerprint(referral: dict[str, Any]) -> str:
    canonical = orjson.dumps(referral, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()
