"""Raising and answering the commissioner's evidence requests: each one transaction with its event.

The promise (when the clock starts, when it is due) is the domain's; the calendar of England and
Wales working days it counts on is the runtime's, passed in here.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time

from gmirs_case.adapters.evidence_requests import EvidenceScope
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.evidence_requests import (
    EvidenceRequest,
    EvidenceRequestError,
    raise_request,
)
from gmirs_contracts.case_evidence import EvidenceRequestAnswered, EvidenceRequested
from gmirs_contracts.registry import contract_for
from gmirs_runtime import working_days

AGGREGATE = "evidence-request"
REQUESTED = contract_for(EvidenceRequested)
ANSWERED = contract_for(EvidenceRequestAnswered)
_ABOUT = ("hub_id", "case_id", "requested_at", "counted_from", "due_at")


class EvidenceRequestNotFoundError(LookupError):
    """No such request in the caller's scope (the same as one that does not exist)."""


async def raise_evidence_request(
    uow: CaseUnitOfWork,
    *,
    asked: str,
    hub_id: str | None,
    case_id: uuid.UUID | None,
    requested_by: str,
    requested_at: datetime | None,
    now: datetime,
    cutoff: time,
) -> EvidenceRequest:
    """Record a commissioner's request; one about a case is addressed to the case's hub."""
    hub_id = await _addressee(uow, hub_id, case_id)
    request = raise_request(
        asked=asked,
        hub_id=hub_id,
        case_id=case_id,
        requested_by=requested_by,
        requested_at=requested_at,
        now=now,
        calendar=working_days,
        cutoff=cutoff,
    )
    await uow.evidence_requests.add(request)
    event = EvidenceRequested.model_validate(_about(request) | {"recorded_at": now})
    uow.publish(REQUESTED, event, aggregate_type=AGGREGATE, aggregate_id=request.id)
    return request


async def _addressee(
    uow: CaseUnitOfWork, hub_id: str | None, case_id: uuid.UUID | None
) -> str | None:
    if case_id is None:
        return hub_id
    case = await uow.cases.get(case_id, hub_id=ALL_HUBS)
    if case is None:
        raise EvidenceRequestError("case_id names no case")
    if hub_id is not None and hub_id != case.hub_id:
        raise EvidenceRequestError("the case named is not with the hub named")
    return case.hub_id


async def answer_evidence_request(
    uow: CaseUnitOfWork,
    request_id: uuid.UUID,
    scope: EvidenceScope,
    *,
    text: str,
    by: str,
    by_hub: bool,
    now: datetime,
) -> EvidenceRequest:
    """Answer a request the caller may see, once (AlreadyAnsweredError the second time)."""
    found = await uow.evidence_requests.get(request_id, scope, for_update=True)
    if found is None:
        raise EvidenceRequestNotFoundError(str(request_id))
    answered = found.answered(text, by=by, now=now)
    await uow.evidence_requests.save_answer(answered)
    assert answered.answer is not None
    event = EvidenceRequestAnswered.model_validate(
        _about(answered)
        | {
            "answered_at": answered.answer.answered_at,
            "on_time": answered.answer.on_time,
            "answered_by_hub": by_hub,
        }
    )
    uow.publish(ANSWERED, event, aggregate_type=AGGREGATE, aggregate_id=answered.id)
    return answered


def _about(request: EvidenceRequest) -> dict[str, object]:
    return {"request_id": request.id} | {name: getattr(request, name) for name in _ABOUT}
