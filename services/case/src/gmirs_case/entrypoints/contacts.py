"""Contact attempts on a case: record one (successful or not), list them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import status
from pydantic import AwareDatetime, BaseModel, ConfigDict

from gmirs_case.domain.contacts import (
    ContactInFutureError,
    ContactMethod,
    ContactOutcome,
)
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.contacts import record_contact
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_contracts import common
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["contacts"])


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: common.ContactMethod
    outcome: common.ContactOutcome
    occurred_at: common.Moment


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    method: common.ContactMethod
    outcome: common.ContactOutcome
    successful: bool
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime


class ContactPage(BaseModel):
    items: list[ContactRead]
    total: int
    limit: int
    offset: int


@router.post(
    "/{case_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 422),
)
async def create_contact(
    case_id: uuid.UUID, body: ContactCreate, principal: CaseWorker, uow: UoW
) -> ContactRead:
    """Record an attempt to contact the person; unsuccessful attempts count too."""
    try:
        attempt = await record_contact(
            case_id,
            method=ContactMethod(body.method),
            outcome=ContactOutcome(body.outcome),
            occurred_at=body.occurred_at,
            uow=uow,
            hub_id=hub_scope(principal),
            now=datetime.now(UTC),
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except ContactInFutureError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.contact-recorded", case_id)
    await uow.commit()
    return ContactRead.model_validate(attempt)


@router.get("/{case_id}/contacts", responses=problem_responses(404, 422))
async def list_contacts(
    case_id: uuid.UUID,
    principal: CaseWorker,
    uow: UoW,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> ContactPage:
    """The case's contact attempts, most recent first (the read is audited)."""
    await visible_case(uow, principal, case_id)
    attempts, total = await uow.contacts.list(case_id, limit=limit, offset=offset)
    await audited(uow, principal, "case.contacts-viewed", case_id)
    await uow.commit()
    items = [ContactRead.model_validate(a) for a in attempts]
    return ContactPage(items=items, total=total, limit=limit, offset=offset)
