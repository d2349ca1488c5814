"""The person on a case (kept when it opens, contact corrected by the hub) and its caseworker.

An assignment is kept by referral id, so R&M's `assignedTo` counts whether it arrives before the
case opens (a held referral, a replayed dead letter) or after: the case opening applies it.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from gmirs_case.adapters import events
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.model import Case
from gmirs_case.domain.people import CasePerson, WorkerAssignment, corrected_contact
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_contracts.case_people import WorkerAssigned
from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.intake_progress import ReferralAssigned
from gmirs_contracts.registry import EVENTS
from gmirs_runtime.eventing.envelope import Event

WORKER_ASSIGNED = EVENTS["gmirs.case.worker-assigned.v1"]
RM_SOURCE = "refer-and-monitor"
HUB_SOURCE = "hub"


class StaleContactError(Exception):
    """The contact details changed since the caller read them (answer 412)."""


def person_of(case: Case, referral: ReferralReceived) -> CasePerson:
    """What the referral says about the person, as the hub and lead provider may read it."""
    data = referral.to_data()
    kept = ("person", "needs", "service_categories", "referring_practitioner")
    return CasePerson(
        case_id=case.id,
        crn=referral.person.crn,
        given_name=referral.person.given_name,
        family_name=referral.person.family_name,
        date_of_birth=referral.person.date_of_birth,
        referral={
            **{key: data[key] for key in kept},
            "probation_delivery_unit": referral.probation_delivery_unit,
            "completion_deadline": data["completion_deadline"],
            "location": data.get("location"),
        },
        contact={},
        contact_version=1,
    )


async def keep_person(case: Case, referral: ReferralReceived, uow: CaseUnitOfWork) -> None:
    """On opening: store the person and apply an assignment that arrived before the case."""
    await uow.people.add(person_of(case, referral))
    assignment = await uow.people.assignment(case.referral_id)
    if assignment is not None:
        _announce(uow, case.id, case.hub_id, assignment)


async def correct_contact(
    uow: CaseUnitOfWork,
    person: CasePerson,
    changes: dict[str, Any],
    *,
    expected_version: int,
    by: str,
    now: datetime,
) -> CasePerson:
    contact = corrected_contact(person, changes, expected_version=expected_version)
    version = await uow.people.save_contact(
        person.case_id, contact, version=expected_version, by=by, at=now
    )
    if version is None:  # changed between our read and our write
        raise StaleContactError(person.case_id)
    return replace(
        person,
        contact=contact,
        contact_version=version,
        contact_updated_at=now,
        contact_updated_by=by,
    )


async def assign_worker(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    hub_id: str | None,
    *,
    worker: str,
    by: str,
    now: datetime,
) -> tuple[Case, WorkerAssignment]:
    """The hub or lead provider assigns a caseworker to a case it may see."""
    case = await uow.cases.get(case_id, hub_id=hub_id, for_update=True)
    if case is None:
        raise CaseNotFoundError(str(case_id))
    assignment = WorkerAssignment(case.referral_id, worker, HUB_SOURCE, now, by)
    await uow.people.save_assignment(assignment)
    _announce(uow, case.id, case.hub_id, assignment)
    return case, assignment


async def take_rm_assignment(assigned: ReferralAssigned, event: Event, uow: CaseUnitOfWork) -> None:
    """R&M's `assignedTo`: kept (latest wins), announced if the case is open."""
    assignment = WorkerAssignment(
        assigned.referral_id, assigned.assigned_to, RM_SOURCE, assigned.assigned_at, RM_SOURCE
    )
    if not assignment.supersedes(await uow.people.assignment(assigned.referral_id)):
        return  # an older assignment arriving late changes nothing
    await uow.people.save_assignment(assignment)
    case = await uow.people.case_of_referral(assigned.referral_id)
    if case is not None:
        _announce(uow, case[0], case[1], assignment)


def _announce(
    uow: CaseUnitOfWork, case_id: uuid.UUID, hub_id: str, assignment: WorkerAssignment
) -> None:
    payload = WorkerAssigned(
        case_id=case_id,
        referral_id=assignment.referral_id,
        hub_id=hub_id,
        worker=assignment.worker,
        source="hub" if assignment.source == HUB_SOURCE else "refer-and-monitor",
        assigned_at=assignment.assigned_at,
    )
    uow.publish(WORKER_ASSIGNED, payload, aggregate_type=events.AGGREGATE, aggregate_id=case_id)
