"""Mitigations on a case: record why a measured step (DS2, KP6) was late; list them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gmirs_case.domain.mitigations import (
    MitigatedMeasure,
    MitigationInFutureError,
    MitigationReason,
)
from gmirs_case.entrypoints.access import Now
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_case.handlers.mitigations import add_mitigation
from gmirs_contracts import case_kpi, common
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["mitigations"])


class MitigationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: case_kpi.MitigatedMeasure
    reason: case_kpi.MitigationReason
    note: Annotated[common.FreeText, Field(min_length=1, max_length=2_000)] | None = None
    occurred_at: common.Moment = Field(description="When the circumstance arose.")


class MitigationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    measure: case_kpi.MitigatedMeasure
    reason: case_kpi.MitigationReason
    note: str | None
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    recorded_by: str


class MitigationList(BaseModel):
    items: list[MitigationRead]


@router.post(
    "/{case_id}/mitigations",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 422),
)
async def create_mitigation(
    case_id: uuid.UUID, body: MitigationCreate, principal: CaseWorker, uow: UoW, now: Now
) -> MitigationRead:
    """Record why a measured step was late; DS2 and KP6 count "inclusive of mitigation"."""
    try:
        mitigation = await add_mitigation(
            case_id,
            measure=MitigatedMeasure(body.measure),
            reason=MitigationReason(body.reason),
            note=body.note,
            occurred_at=body.occurred_at,
            recorded_by=principal.client_id,
            uow=uow,
            hub_id=hub_scope(principal),
            now=now,
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except MitigationInFutureError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.mitigation-recorded", case_id)
    await uow.commit()
    return MitigationRead.model_validate(mitigation)


@router.get("/{case_id}/mitigations", responses=problem_responses(404))
async def list_mitigations(case_id: uuid.UUID, principal: CaseWorker, uow: UoW) -> MitigationList:
    """The case's mitigations, newest first (the read is audited: notes are the worker's words)."""
    await visible_case(uow, principal, case_id)
    mitigations = await uow.mitigations.of_case(case_id)
    await audited(uow, principal, "case.mitigations-viewed", case_id)
    await uow.commit()
    return MitigationList(items=[MitigationRead.model_validate(m) for m in mitigations])
