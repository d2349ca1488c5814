"""The person on a case and its caseworker: the hub's and the lead provider's view.

Commissioners and operators are refused (403): this is special-category data. Every read and
correction is audited with its purpose (`X-Purpose`, else the operation). Contact details are
changed only with `If-Match` naming the version read, so a stale edit is a 412, not a silent
overwrite.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Header, Response

from gmirs_case.domain.people import CasePerson, StaleVersionError
from gmirs_case.entrypoints.access import Now, Purpose, audit_case_access
from gmirs_case.entrypoints.case_problems import no_such_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.people_schemas import (
    ContactPatch,
    PersonRead,
    WorkerPut,
    WorkerRead,
)
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_case.handlers.people import StaleContactError, assign_worker, correct_contact
from gmirs_runtime.auth import Principal
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["people"])
_ETAG = re.compile(r'^(?:W/)?"?([0-9]{1,9})"?$')


async def _person(uow: UoW, case_id: uuid.UUID, principal: Principal) -> CasePerson:
    case = await uow.cases.get(case_id, hub_id=hub_scope(principal))
    person = None if case is None else await uow.people.get(case_id)
    if person is None:
        raise no_such_case()
    return person


def _read(person: CasePerson, response: Response) -> PersonRead:
    response.headers["ETag"] = f'"{person.contact_version}"'
    return PersonRead.model_validate(
        {
            **person.referral,
            "case_id": person.case_id,
            "crn": person.crn,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "contact": person.contact,
            "contact_version": person.contact_version,
            "contact_updated_at": person.contact_updated_at,
            "contact_updated_by": person.contact_updated_by,
        }
    )


@router.get("/{case_id}/person", responses=problem_responses(404, 422))
async def get_person(
    case_id: uuid.UUID, principal: CaseWorker, uow: UoW, why: Purpose, response: Response
) -> PersonRead:
    """The person on the case (audited with the caller's purpose); the ETag is the contact's version."""
    person = await _person(uow, case_id, principal)
    await audit_case_access(uow.session, principal, "person.viewed", case_id, why)
    await uow.commit()
    return _read(person, response)


def _expected_version(if_match: str | None) -> int:
    if if_match is None or if_match.strip() == "*":
        raise Problem(428, detail="Send If-Match with the contact_version (ETag) you read.")
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise Problem(412, detail="If-Match names no version of the contact details.")
    return int(match[1])


@router.patch("/{case_id}/person/contact", responses=problem_responses(404, 412, 413, 422, 428))
async def patch_contact(
    case_id: uuid.UUID,
    body: ContactPatch,
    principal: CaseWorker,
    uow: UoW,
    why: Purpose,
    now: Now,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=64)] = None,
) -> PersonRead:
    """Correct the contact details (If-Match: the version read; a stale one is a 412)."""
    person = await _person(uow, case_id, principal)  # another hub's case: 404 before all else
    expected = _expected_version(if_match)
    changes = body.model_dump(include=body.model_fields_set)
    try:
        person = await correct_contact(
            uow, person, changes, expected_version=expected, by=principal.client_id, now=now
        )
    except (StaleVersionError, StaleContactError):
        raise Problem(412, detail="The contact details changed since you read them.") from None
    await audit_case_access(uow.session, principal, "person.contact-corrected", case_id, why)
    await uow.commit()
    return _read(person, response)


@router.put("/{case_id}/worker", responses=problem_responses(404, 413, 422))
async def put_worker(
    case_id: uuid.UUID, body: WorkerPut, principal: CaseWorker, uow: UoW, why: Purpose, now: Now
) -> WorkerRead:
    """Assign the case to a caseworker of its hub (announced as worker-assigned)."""
    try:
        _, assignment = await assign_worker(
            uow, case_id, hub_scope(principal), worker=body.worker, by=principal.client_id, now=now
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    await audit_case_access(uow.session, principal, "case.worker-assigned", case_id, why)
    await uow.commit()
    return WorkerRead(
        case_id=case_id, worker=assignment.worker, source="hub", assigned_at=assignment.assigned_at
    )
