"""R&M domain events in, our referral events out: exactly once per event, whatever the order.

R&M is called first and no transaction stays open across HTTP; then one transaction, serialised
per R&M referral by an advisory lock, makes sure our referral exists (the first event of ANY
type creates it from the sent referral, so `assigned` before `sent` works and the later `sent`
changes nothing), claims the event's identity (a redelivery finds it claimed) and puts our event
in the outbox. A referral already entered directly or imported is found by its reference number.
"""

from __future__ import annotations

import contextlib
import enum
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from gmirs_contracts.base import ContractModel
from gmirs_contracts.intake_progress import ReferralAssigned
from gmirs_contracts.registry import EVENTS
from gmirs_referral_intake.adapters import rm_store
from gmirs_referral_intake.adapters.repository import ReferralRepository
from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.adapters.rm_store import KnownReferral
from gmirs_referral_intake.domain import rm_mapping, rm_progress
from gmirs_referral_intake.domain.rm_envelope import RmEnvelope
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.handlers.accept_referral import (
    AcceptReferral,
    ConflictingReferralError,
    accept_referral,
)
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.errors import describe_error, is_infrastructure_failure

SOURCE = "refer-and-monitor"
ASSIGNED_TYPE = "gmirs.intake.referral-assigned.v1"
tracer = trace.get_tracer(__name__)
UnitOfWorkFactory = Callable[[], UnitOfWork]


class RmEventOutcome(enum.Enum):
    PUBLISHED = "published"  # committed: the event is claimed and its events are in the outbox
    DUPLICATE = "duplicate"  # applied before: nothing written


def external_key(rm_referral_id: uuid.UUID) -> str:
    return f"rm:{rm_referral_id}"


async def process_rm_event(
    envelope: RmEnvelope, *, unit_of_work: UnitOfWorkFactory, rm: RmApi, routing: HubRouting
) -> RmEventOutcome:
    """Fetch the event's detail from R&M, then record and publish it in one transaction.

    Raises UnusableMessageError (quarantine it) or TransientFailureError (retry later).
    """
    attributes = {"rm.event_type": envelope.event_type, "rm.event_identity": str(envelope.identity)}
    with tracer.start_as_current_span("process rm event", attributes=attributes), _classified():
        hint = envelope.rm_referral_id
        reference = envelope.additional_information.get("referralReference")
        async with unit_of_work() as uow:
            await uow.read_without_transaction()
            seen, known = await rm_store.seen_and_found(
                uow.session,
                envelope.identity,
                rm_referral_id=hint,
                reference_number=reference if hint else None,
            )
            if seen:
                return RmEventOutcome.DUPLICATE
        if known is not None and hint is not None and envelope.event_type == rm_progress.SENT:
            target = _Target(hint, known.reference_number)
            return await _apply(envelope, {}, target, unit_of_work, routing)  # nothing to fetch
        detail = await rm.get_json(envelope.detail_url)
        rm_id = rm_progress.rm_referral_id(envelope, detail)
        if known is None and rm_id != hint:
            known = await _look_up(unit_of_work, rm_id, reference)
        if known is not None:
            target = _Target(rm_id, known.reference_number)
        else:
            is_sent_referral = envelope.event_type in rm_progress.DETAIL_IS_SENT_REFERRAL
            sent = detail if is_sent_referral else await rm.sent_referral(rm_id)
            target = await _draft(rm, rm_id, sent)
        return await _apply(envelope, detail, target, unit_of_work, routing)


async def ensure_referral_from_rm(
    rm_referral_id: uuid.UUID,
    *,
    unit_of_work: UnitOfWorkFactory,
    rm: RmApi,
    routing: HubRouting,
    assigned_to: str | None = None,
) -> tuple[uuid.UUID, bool]:
    """Our referral for an R&M referral (and whether this call created it), exactly as an event
    would create it: from GET /sent-referral/{id}, found first by R&M id or reference number.

    With `assigned_to` (R&M shows the referral assigned), `referral-assigned` is published in
    the same transaction unless an assignment of this referral was recorded before; its R&M
    event arriving later is then a duplicate (see `_announced_by_reconciliation`).
    """
    with _classified():
        known = await _look_up(unit_of_work, rm_referral_id, None)
        if known is not None and not assigned_to:
            return known.referral_id, False
        target = None
        if known is None:
            target = await _draft(rm, rm_referral_id, await rm.sent_referral(rm_referral_id))
        async with unit_of_work() as uow:
            await rm_store.lock_rm_referral(uow.session, rm_referral_id)
            known, created = await _ensure(uow, target or _Target(rm_referral_id, None), routing)
            if assigned_to:
                await _announce_assignment(uow, rm_referral_id, known, assigned_to)
            await uow.commit()
        return known.referral_id, created


async def _announce_assignment(
    uow: UnitOfWork, rm_id: uuid.UUID, known: KnownReferral, username: str
) -> None:
    """Publish `referral-assigned` for an assignment R&M shows but no event of ours recorded.

    R&M gives no assignment time outside its event, so `assigned_at` is when we learned of it.
    """
    claimed = await rm_store.claim_reconciled_assignment(
        uow.session, rm_referral_id=rm_id, referral_id=known.referral_id, username=username
    )
    if not claimed:
        return
    ref = rm_progress.ReferralRef(known.referral_id, rm_id, known.crn, known.reference_number)
    payload = ReferralAssigned.model_validate(
        {**ref.ids(), "assigned_at": datetime.now(UTC), "assigned_to": username}
    )
    uow.publish(
        EVENTS[ASSIGNED_TYPE], payload, aggregate_type="referral", aggregate_id=known.referral_id
    )


async def _announced_by_reconciliation(
    uow: UnitOfWork, envelope: RmEnvelope, rm_id: uuid.UUID
) -> bool:
    """An `assigned` event whose assignment reconciliation already published: publish nothing."""
    username = envelope.additional_information.get("assignedTo")
    if envelope.event_type != rm_store.ASSIGNED or not username:
        return False
    return await rm_store.take_reconciled_assignment(
        uow.session, rm_referral_id=rm_id, username=username
    )


async def _look_up(
    unit_of_work: UnitOfWorkFactory, rm_id: uuid.UUID | None, reference: str | None
) -> KnownReferral | None:
    """`_find` on its own, outside any transaction (before or between calls to R&M)."""
    async with unit_of_work() as uow:
        await uow.read_without_transaction()
        return await _find(uow, rm_id, reference)


async def _find(
    uow: UnitOfWork, rm_id: uuid.UUID | None, reference: str | None
) -> KnownReferral | None:
    return await rm_store.find_referral(
        uow.session, rm_referral_id=rm_id, reference_number=reference
    )


@dataclass(frozen=True)
class _Target:
    """The R&M referral an event is about: how to find ours, and the data to create it if missing."""

    rm_id: uuid.UUID
    reference: str | None
    draft: dict[str, Any] | None = None


async def _draft(rm: RmApi, rm_id: uuid.UUID, sent: Mapping[str, Any]) -> _Target:
    """Our referral's data from a sent referral, with its service categories fetched."""
    ids = rm_mapping.service_category_ids(sent)
    categories = {category_id: await rm.service_category(category_id) for category_id in ids}
    draft = rm_mapping.referral_data(sent, categories)
    return _Target(rm_id, draft["reference_number"], draft)


async def _apply(
    envelope: RmEnvelope,
    detail: Mapping[str, Any],
    target: _Target,
    unit_of_work: UnitOfWorkFactory,
    routing: HubRouting,
) -> RmEventOutcome:
    """The transaction: the referral made sure of, the event claimed, our event in the outbox."""
    rm_id = target.rm_id
    async with unit_of_work() as uow:
        await rm_store.lock_rm_referral(uow.session, rm_id)
        known, _ = await _ensure(uow, target, routing)
        claimed = await rm_store.claim(
            uow.session, envelope, rm_referral_id=rm_id, referral_id=known.referral_id
        )
        if not claimed:
            return RmEventOutcome.DUPLICATE  # leaving uncommitted rolls back
        if await _announced_by_reconciliation(uow, envelope, rm_id):
            await uow.commit()  # claimed, so a redelivery is a duplicate too
            return RmEventOutcome.DUPLICATE
        ref = rm_progress.ReferralRef(known.referral_id, rm_id, known.crn, known.reference_number)
        try:
            mapped = _progress(envelope, detail, ref)
        except UnusableMessageError:
            await uow.rollback()  # keep the referral, not the claim: a replay may apply it
            await _keep_referral_only(uow, target, routing)
            raise
        if mapped is not None:
            ce_type, payload = mapped
            uow.publish(
                EVENTS[ce_type], payload, aggregate_type="referral", aggregate_id=known.referral_id
            )
        await uow.commit()
    return RmEventOutcome.PUBLISHED


async def _keep_referral_only(uow: UnitOfWork, target: _Target, routing: HubRouting) -> None:
    if target.draft is not None:
        await rm_store.lock_rm_referral(uow.session, target.rm_id)
        await _ensure(uow, target, routing)
        await uow.commit()


def _progress(
    envelope: RmEnvelope, detail: Mapping[str, Any], ref: rm_progress.ReferralRef
) -> tuple[str, ContractModel] | None:
    try:
        return rm_progress.progress_event(envelope, detail, ref)
    except ValidationError as exc:
        raise UnusableMessageError(describe_error(exc)) from None


async def _ensure(
    uow: UnitOfWork, target: _Target, routing: HubRouting
) -> tuple[KnownReferral, bool]:
    """Inside the locked transaction: the referral found, or created from the target's draft.

    A referral that holds the reference number under another key (entered directly, imported)
    is found by accept_referral itself, under the reference number's lock.
    """
    known = await _find(uow, target.rm_id, None if target.draft else target.reference)
    if known is not None:
        return known, False
    if target.draft is None:  # it existed a moment ago; retry rather than guess
        raise TransientFailureError("referral not found on second look")
    key = external_key(target.rm_id)
    command = AcceptReferral(source=SOURCE, external_key=key, referral=target.draft)
    try:
        record, created = await accept_referral(command, uow=uow, routing=routing)
    except ValidationError as exc:
        raise UnusableMessageError(describe_error(exc)) from None
    except ConflictingReferralError:
        found = await ReferralRepository(uow.session).by_external_key(command.external_key)
        assert found is not None
        record, created = found, False
    data = record.referral
    return KnownReferral(record.id, data["person"]["crn"], data.get("reference_number")), created


@contextlib.contextmanager
def _classified() -> Iterator[None]:
    """Turn database failures into the two outcomes callers handle; anything else is a bug."""
    try:
        yield
    except (UnusableMessageError, TransientFailureError):
        raise
    except IntegrityError:  # another source created the referral first: the next try finds it
        raise TransientFailureError("referral created concurrently") from None
    except Exception as exc:
        if is_infrastructure_failure(exc):
            raise TransientFailureError(f"database unavailable: {type(exc).__name__}") from None
        raise
