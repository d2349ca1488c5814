"""A routed referral becomes a case owned by its hub (once, however often the event arrives).

The case starts `received` at the referral's sent time and is at once `allocated` to its hub;
R&M progress that arrived before it is then applied.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from gmirs_case.adapters import events
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.commands import AllocateCase
from gmirs_case.domain.lifecycle import Lifecycle
from gmirs_case.domain.model import Case
from gmirs_case.handlers.lifecycle import apply_command
from gmirs_case.handlers.people import keep_person
from gmirs_case.handlers.rm_progress import apply_held
from gmirs_contracts.intake import ReferralReceived
from gmirs_runtime.eventing.envelope import Event


async def open_case(referral: ReferralReceived, event: Event, uow: CaseUnitOfWork) -> None:
    if referral.hub_id is None or referral.probation_delivery_unit is None:
        return  # not yet routed: intake holds it for the lead provider (an unknown unit always is)
    case = Case(
        id=uuid.uuid4(),
        referral_id=referral.referral_id,
        hub_id=referral.hub_id,
        probation_delivery_unit=referral.probation_delivery_unit,
        crn=referral.person.crn,
        reference_number=referral.reference_number,
        rm_referral_id=referral.rm_referral_id,
        opened_at=datetime.now(UTC),
    )
    if not await uow.cases.add(case):
        return
    uow.publish(
        events.CASE_OPENED,
        events.case_opened(case),
        aggregate_type=events.AGGREGATE,
        aggregate_id=case.id,
    )
    await keep_person(case, referral, uow)
    await uow.lifecycles.save(case.id, Lifecycle.received(referral.sent_at))
    allocation = AllocateCase(hub_id=case.hub_id, occurred_at=max(case.opened_at, referral.sent_at))
    await apply_command(uow, case, allocation, now=allocation.occurred_at)
    await apply_held(uow, case, now=case.opened_at)
