"""A hub records an attempt to contact the person, whether or not it reached them.

A successful attempt on a case still waiting for its first contact (`allocated`) is also the
lifecycle's first contact: `RecordFirstContact` is decided by the lifecycle's own table and its
event published in the same transaction. An unsuccessful attempt, or a case already past that
point, leaves the lifecycle as it is.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_case.adapters import records
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.commands import RecordFirstContact
from gmirs_case.domain.contacts import (
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    attempt_contact,
)
from gmirs_case.domain.lifecycle import CaseState
from gmirs_case.domain.model import Case
from gmirs_case.handlers.lifecycle import apply_command
from gmirs_case.handlers.locking import locked_case
from gmirs_contracts import case_needs as contract
from gmirs_contracts.registry import EVENTS

CONTACT_ATTEMPTED = EVENTS["gmirs.case.contact-attempted.v1"]
AGGREGATE = "case"


async def record_contact(
    case_id: uuid.UUID,
    *,
    method: ContactMethod,
    outcome: ContactOutcome,
    occurred_at: datetime,
    uow: CaseUnitOfWork,
    hub_id: str | None,
    now: datetime,
) -> ContactAttempt:
    case = await locked_case(uow, case_id, hub_id)
    attempt = attempt_contact(method=method, outcome=outcome, occurred_at=occurred_at, now=now)
    await uow.contacts.add(case.id, attempt)
    event = records.contract(
        contract.ContactAttempted,
        of_case(case)
        | records.record_of(attempt, rename={"id": "contact_id"})
        | {"successful": attempt.successful},
    )
    uow.publish(CONTACT_ATTEMPTED, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    if attempt.successful and (await uow.lifecycles.get(case.id)).state is CaseState.ALLOCATED:
        await apply_command(uow, case, RecordFirstContact(occurred_at), now=now)
    return attempt


def of_case(case: Case) -> dict[str, object]:
    """The ids every case event carries."""
    return {"case_id": case.id, "referral_id": case.referral_id, "hub_id": case.hub_id}
