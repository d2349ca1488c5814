"""A hub records a mitigation on its case; metrics hears of it as a reason code."""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_case.adapters import records
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.mitigations import (
    MitigatedMeasure,
    Mitigation,
    MitigationReason,
    record_mitigation,
)
from gmirs_case.handlers.contacts import AGGREGATE, of_case
from gmirs_case.handlers.locking import locked_case
from gmirs_contracts import case_kpi as contract
from gmirs_contracts.registry import EVENTS

MITIGATION_RECORDED = EVENTS["gmirs.case.mitigation-recorded.v1"]


async def add_mitigation(
    case_id: uuid.UUID,
    *,
    measure: MitigatedMeasure,
    reason: MitigationReason,
    note: str | None,
    occurred_at: datetime,
    recorded_by: str,
    uow: CaseUnitOfWork,
    hub_id: str | None,
    now: datetime,
) -> Mitigation:
    case = await locked_case(uow, case_id, hub_id)
    mitigation = record_mitigation(
        measure=measure,
        reason=reason,
        note=note,
        occurred_at=occurred_at,
        recorded_by=recorded_by,
        now=now,
    )
    await uow.mitigations.add(case.id, mitigation)
    event = records.contract(
        contract.MitigationRecorded,
        of_case(case) | records.record_of(mitigation, rename={"id": "mitigation_id"}),
    )
    uow.publish(MITIGATION_RECORDED, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    return mitigation
