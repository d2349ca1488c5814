"""The lead provider's direct-referral API.

`Idempotency-Key` makes a retried POST safe: the same key and body return the referral already
accepted (200), the same key with a different body is refused (409), and a new referral is 201.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Request, Response, status
from opentelemetry import context as otel_context

from gmirs_referral_intake.adapters.repository import ReferralRepository
from gmirs_referral_intake.adapters.tables import Referral
from gmirs_referral_intake.entrypoints.schemas import DirectReferralCreate, ReferralAccepted
from gmirs_referral_intake.handlers.accept_referral import (
    Accepted,
    AcceptReferral,
    ConflictingReferralError,
)
from gmirs_runtime import audit
from gmirs_runtime.auth import authenticated_router, principal_of
from gmirs_runtime.deps import UnitOfWorkDep as UoW
from gmirs_runtime.group_commit import GroupCommit
from gmirs_runtime.problems import Problem, problem_responses

LEAD_PROVIDER = "lead-provider"
DirectAccepting = GroupCommit[AcceptReferral, Accepted]
router = authenticated_router(prefix="/referrals", tags=["referrals"], roles=[LEAD_PROVIDER])
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=8, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$"),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": ReferralAccepted}, **problem_responses(409, 413, 422)},
)
async def create_referral(
    body: DirectReferralCreate,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReferralAccepted:
    """Accept a direct referral; it is routed to its hub or held for the lead provider.

    A referral carrying an R&M reference number that intake already holds (from R&M or the
    pilot import) is not created twice: the answer is 200 with the referral already held.
    """
    data = {**body.model_dump(mode="json"), "rm_referral_id": None}
    key = idempotency_key or str(uuid.uuid4())
    command = AcceptReferral(
        source="direct",
        external_key=f"direct:{principal_of(request).client_id}:{key}",
        referral=data,
        trace=otel_context.get_current(),
    )
    accepting: DirectAccepting = request.app.state.accepting
    try:
        accepted = await accepting.submit(command)  # committed with the others arriving now
    except ConflictingReferralError:
        raise Problem(
            409, detail="This Idempotency-Key was already used for a different referral."
        ) from None
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/referrals/{accepted.record.id}"
    return _accepted(accepted.record)


@router.get("/{referral_id}", responses=problem_responses(404))
async def get_referral(referral_id: uuid.UUID, request: Request, uow: UoW) -> ReferralAccepted:
    """Where a referral stands (routed or held); the read is audited."""
    record = await ReferralRepository(uow.session).get(referral_id)
    if record is None:
        raise Problem(404, detail="No such referral.")
    await audit.record(
        uow.session,
        actor=principal_of(request).client_id,
        action="referral.viewed",
        resource_type="referral",
        resource_id=str(referral_id),
    )
    await uow.commit()
    return _accepted(record)


def _accepted(record: Referral) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id=record.id,
        source=record.source,
        status="routed" if record.hub_id else "held",
        hub_id=record.hub_id,
        received_at=record.received_at,
    )
