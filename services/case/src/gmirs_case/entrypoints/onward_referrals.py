"""Onward referrals to other agencies: refused (409, with the consent reason) without consent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gmirs_case.domain.onward_referrals import (
    OnwardReferralInFutureError,
    OutcomeNotSettledError,
    ReferralOutcome,
    SharingRefusedError,
)
from gmirs_case.domain.outcomes import OutcomeArea
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_case.handlers.onward_referrals import (
    OnwardReferralNotFoundError,
    record_onward_outcome,
    record_onward_referral,
)
from gmirs_contracts import common
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["consent"])

OutcomeName = Literal["pending", "accepted", "declined", "no-response"]
CONSENT_REQUIRED = "https://gmirs.example/problems/consent-required"


class OnwardReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: Annotated[common.Line, Field(min_length=1, max_length=200)] = Field(
        description="The agency referred to, by name (as the consent names it)."
    )
    need: common.OutcomeArea = Field(description="The need the referral is for.")
    referred_at: common.Moment
    outcome: OutcomeName = "pending"


class OnwardReferralRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agency: str
    need: common.OutcomeArea
    referred_at: AwareDatetime
    outcome: OutcomeName
    consent_id: uuid.UUID = Field(description="The consent that allowed it.")
    recorded_at: AwareDatetime
    outcome_recorded_at: AwareDatetime | None = Field(
        description="When the agency's answer was recorded (null while pending from the start)."
    )


class OnwardOutcomeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accepted", "declined", "no-response"]


class OnwardReferralList(BaseModel):
    items: list[OnwardReferralRead]


@router.post(
    "/{case_id}/onward-referrals",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 413, 422),
)
async def create_onward_referral(
    case_id: uuid.UUID, body: OnwardReferralCreate, principal: CaseWorker, uow: UoW
) -> OnwardReferralRead:
    """Record a referral to another agency; 409 naming the reason when no consent covers it."""
    try:
        referral = await record_onward_referral(
            case_id,
            agency=body.agency,
            need=OutcomeArea(body.need),
            referred_at=body.referred_at,
            outcome=ReferralOutcome(body.outcome),
            uow=uow,
            hub_id=hub_scope(principal),
            now=datetime.now(UTC),
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except SharingRefusedError as exc:
        raise Problem(
            409, "Consent required", f"Not shared: {exc}.", type=CONSENT_REQUIRED
        ) from None
    except OnwardReferralInFutureError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.onward-referral-recorded", case_id)
    await uow.commit()
    return OnwardReferralRead.model_validate(referral)


@router.get("/{case_id}/onward-referrals", responses=problem_responses(404))
async def list_onward_referrals(
    case_id: uuid.UUID, principal: CaseWorker, uow: UoW
) -> OnwardReferralList:
    """The case's onward referrals, oldest first (the read is audited)."""
    await visible_case(uow, principal, case_id)
    referrals = await uow.onward_referrals.list(case_id)
    await audited(uow, principal, "case.onward-referrals-viewed", case_id)
    await uow.commit()
    return OnwardReferralList(items=[OnwardReferralRead.model_validate(r) for r in referrals])


@router.put(
    "/{case_id}/onward-referrals/{onward_referral_id}/outcome",
    responses=problem_responses(404, 413, 422),
)
async def put_onward_outcome(
    case_id: uuid.UUID,
    onward_referral_id: uuid.UUID,
    body: OnwardOutcomeUpdate,
    principal: CaseWorker,
    uow: UoW,
) -> OnwardReferralRead:
    """Record what the agency did with the referral (the same answer again changes nothing)."""
    try:
        referral = await record_onward_outcome(
            case_id,
            onward_referral_id,
            ReferralOutcome(body.outcome),
            uow=uow,
            hub_id=hub_scope(principal),
            now=datetime.now(UTC),
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except OnwardReferralNotFoundError:
        raise Problem(404, detail="No such onward referral on this case.") from None
    except OutcomeNotSettledError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.onward-referral-outcome-recorded", case_id)
    await uow.commit()
    return OnwardReferralRead.model_validate(referral)
