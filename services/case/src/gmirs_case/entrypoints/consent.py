"""Consent to share with named partners: record one, withdraw it, list a case's consents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gmirs_case.domain.consent import ConsentAlreadyWithdrawnError, ConsentError, ShareScope
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.consent import (
    ConsentNotFoundError,
    GiveConsent,
    record_consent,
    record_withdrawal,
)
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_contracts import common
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["consent"])

Partner = Annotated[common.Line, Field(min_length=1, max_length=200)]


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: Partner = Field(description="The partner organisation, by name.")
    scopes: Annotated[list[common.ShareScope], Field(min_length=1, max_length=4)]
    given_at: common.Moment
    recorded_by: Annotated[common.Line, Field(min_length=1, max_length=120)] = Field(
        description="The worker who took the consent."
    )


class WithdrawalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_at: common.Moment


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    partner: str
    scopes: list[common.ShareScope]
    given_at: AwareDatetime
    recorded_by: str
    recorded_at: AwareDatetime
    withdrawn_at: AwareDatetime | None
    withdrawal_recorded_at: AwareDatetime | None


class ConsentList(BaseModel):
    items: list[ConsentRead]


@router.post(
    "/{case_id}/consents",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 422),
)
async def create_consent(
    case_id: uuid.UUID, body: ConsentCreate, principal: CaseWorker, uow: UoW
) -> ConsentRead:
    """Record the person's consent to share the named scopes with one partner."""
    command = GiveConsent(
        case_id,
        body.partner,
        [ShareScope(s) for s in body.scopes],
        body.given_at,
        body.recorded_by,
    )
    try:
        consent = await record_consent(
            command, uow=uow, hub_id=hub_scope(principal), now=datetime.now(UTC)
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except ConsentError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.consent-recorded", case_id)
    await uow.commit()
    return ConsentRead.model_validate(consent)


@router.post(
    "/{case_id}/consents/{consent_id}/withdrawal",
    responses=problem_responses(404, 409, 413, 422),
)
async def withdraw_consent(
    case_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: WithdrawalCreate,
    principal: CaseWorker,
    uow: UoW,
) -> ConsentRead:
    """The person withdrew the consent: from `withdrawn_at` nothing more goes to the partner."""
    try:
        consent = await record_withdrawal(
            case_id,
            consent_id,
            withdrawn_at=body.withdrawn_at,
            uow=uow,
            hub_id=hub_scope(principal),
            now=datetime.now(UTC),
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except ConsentNotFoundError:
        raise Problem(404, detail="No such consent on this case.") from None
    except ConsentAlreadyWithdrawnError as exc:
        raise Problem(409, detail=str(exc)) from None
    except ConsentError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.consent-withdrawn", case_id)
    await uow.commit()
    return ConsentRead.model_validate(consent)


@router.get("/{case_id}/consents", responses=problem_responses(404))
async def list_consents(case_id: uuid.UUID, principal: CaseWorker, uow: UoW) -> ConsentList:
    """Every consent of the case, current and withdrawn, in the order given (audited)."""
    await visible_case(uow, principal, case_id)
    consents = await uow.consents.list(case_id)
    await audited(uow, principal, "case.consents-viewed", case_id)
    await uow.commit()
    return ConsentList(items=[ConsentRead.model_validate(c) for c in consents])
