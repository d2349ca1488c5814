"""The commissioner's evidence requests over HTTP (KP4: answered within one working day).

A commissioner raises a request (what is asked; optionally of which hub, about which case id) and
sees its own requests and their answers, never a case's personal data. A hub sees and answers
only the requests addressed to it; the lead provider sees and answers all. Another caller's
request answers 404, exactly like a missing one. When a request is due is the domain's rule
(domain/evidence_requests.py); the working day's cut-off is `CASE_EVIDENCE_CUTOFF`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from gmirs_case.adapters.evidence_requests import EvidenceScope
from gmirs_case.domain.evidence_requests import (
    DEFAULT_CUTOFF,
    AlreadyAnsweredError,
    EvidenceRequest,
    EvidenceRequestError,
)
from gmirs_case.entrypoints.access import Now
from gmirs_case.entrypoints.deps import HUB, LEAD_PROVIDER, CaseWorker, KnownHubs, UoW
from gmirs_case.entrypoints.evidence_requests_schemas import (
    AnswerRead,
    EvidenceAnswerCreate,
    EvidenceRequestCreate,
    EvidenceRequestPage,
    EvidenceRequestRead,
)
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.evidence_requests import (
    EvidenceRequestNotFoundError,
    answer_evidence_request,
    raise_evidence_request,
)
from gmirs_case.settings import CaseSettings
from gmirs_contracts.common import HubId
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal, require_roles
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

COMMISSIONER = "commissioner"
router = case_router(prefix="/evidence-requests", tags=["evidence requests"])
Commissioner = Annotated[Principal, Depends(require_roles(COMMISSIONER))]
Reader = Annotated[Principal, Depends(require_roles(COMMISSIONER, HUB, LEAD_PROVIDER))]
_NOT_FOUND = "No such evidence request."


def _scope(principal: Principal) -> EvidenceScope:
    """A hub: its own hub's requests; the lead provider: all; a commissioner: the ones it raised."""
    if HUB in principal.roles:
        return EvidenceScope(hub_id=principal.tenant_id or "")
    if LEAD_PROVIDER in principal.roles:
        return EvidenceScope()
    return EvidenceScope(requested_by=principal.client_id)


def _cutoff(request: Request) -> time:
    settings = request.app.state.settings
    return settings.evidence_cutoff if isinstance(settings, CaseSettings) else DEFAULT_CUTOFF


def _read(found: EvidenceRequest, now: datetime) -> EvidenceRequestRead:
    answer = found.answer
    return EvidenceRequestRead(
        id=found.id,
        asked=found.asked,
        hub_id=found.hub_id,
        case_id=found.case_id,
        requested_by=found.requested_by,
        requested_at=found.requested_at,
        recorded_at=found.recorded_at,
        counted_from=found.counted_from,
        due_at=found.due_at,
        state="open" if answer is None else "answered",
        overdue=found.overdue(now),
        answer=None if answer is None else AnswerRead.model_validate(answer),
    )


async def _audit(uow: UoW, principal: Principal, action: str, request_id: uuid.UUID) -> None:
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action=action,
        resource_type="evidence-request",
        resource_id=str(request_id),
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(413, 422))
async def raise_request(
    body: EvidenceRequestCreate,
    principal: Commissioner,
    uow: UoW,
    hubs: KnownHubs,
    now: Now,
    request: Request,
    response: Response,
) -> EvidenceRequestRead:
    """Ask for evidence (a commissioner): of a hub, about a case id, or of the lead provider."""
    if body.hub_id is not None and body.hub_id not in hubs:
        raise Problem(422, detail=f"{body.hub_id!r} is not a hub of this service")
    try:
        raised = await raise_evidence_request(
            uow,
            asked=body.asked,
            hub_id=body.hub_id,
            case_id=body.case_id,
            requested_by=principal.client_id,
            requested_at=body.requested_at,
            now=now,
            cutoff=_cutoff(request),
        )
    except EvidenceRequestError as exc:
        raise Problem(422, detail=str(exc)) from None
    await _audit(uow, principal, "evidence-request.raised", raised.id)
    await uow.commit()
    response.headers["Location"] = f"/evidence-requests/{raised.id}"
    return _read(raised, now)


@router.get("", responses=problem_responses(422))
async def list_requests(
    principal: Reader,
    uow: UoW,
    now: Now,
    is_open: Annotated[bool | None, Query(alias="open")] = None,
    overdue: bool | None = None,
    hub_id: HubId | None = None,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> EvidenceRequestPage:
    """The requests the caller may see, soonest due first: open or answered, overdue, one hub's."""
    found, total = await uow.evidence_requests.list(
        _scope(principal),
        hub_id=hub_id,
        is_open=is_open,
        overdue=overdue,
        now=now,
        limit=limit,
        offset=offset,
    )
    items = [_read(r, now) for r in found]
    return EvidenceRequestPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{request_id}", responses=problem_responses(404, 422))
async def get_request(
    request_id: uuid.UUID, principal: Reader, uow: UoW, now: Now
) -> EvidenceRequestRead:
    """One request and its answer, if the caller may see it."""
    found = await uow.evidence_requests.get(request_id, _scope(principal))
    if found is None:
        raise Problem(404, detail=_NOT_FOUND)
    return _read(found, now)


@router.post("/{request_id}/answer", responses=problem_responses(404, 409, 413, 422))
async def answer_request(
    request_id: uuid.UUID, body: EvidenceAnswerCreate, principal: CaseWorker, uow: UoW, now: Now
) -> EvidenceRequestRead:
    """Send the evidence (the hub asked, or the lead provider): once; on time before `due_at`."""
    try:
        answered = await answer_evidence_request(
            uow,
            request_id,
            _scope(principal),
            text=body.answer,
            by=principal.client_id,
            by_hub=HUB in principal.roles,
            now=now,
        )
    except EvidenceRequestNotFoundError:
        raise Problem(404, detail=_NOT_FOUND) from None
    except AlreadyAnsweredError as exc:
        raise Problem(409, detail=str(exc)) from None
    except EvidenceRequestError as exc:
        raise Problem(422, detail=str(exc)) from None
    await _audit(uow, principal, "evidence-request.answered", answered.id)
    await uow.commit()
    return _read(answered, now)
