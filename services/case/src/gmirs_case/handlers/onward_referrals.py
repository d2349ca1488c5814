"""A hub refers the person on to another agency (only as far as consent allows), and records
what the agency did with it; both are events for metrics (Appendix A: referred on)."""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_case.adapters import records
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.onward_referrals import (
    OnwardReferral,
    ReferralOutcome,
    refer_onward,
    settle_outcome,
)
from gmirs_case.domain.outcomes import OutcomeArea
from gmirs_case.handlers.contacts import AGGREGATE, of_case
from gmirs_case.handlers.locking import locked_case
from gmirs_contracts import case_needs as contract
from gmirs_contracts.registry import EVENTS

REFERRAL_MADE = EVENTS["gmirs.case.onward-referral-made.v1"]
OUTCOME_RECORDED = EVENTS["gmirs.case.onward-referral-outcome-recorded.v1"]


class OnwardReferralNotFoundError(LookupError):
    """The case has no onward referral with that id."""


async def record_onward_referral(
    case_id: uuid.UUID,
    *,
    agency: str,
    need: OutcomeArea,
    referred_at: datetime,
    outcome: ReferralOutcome,
    uow: CaseUnitOfWork,
    hub_id: str | None,
    now: datetime,
) -> OnwardReferral:
    """Record a referral to another agency, if the person's consent covers it."""
    case = await locked_case(uow, case_id, hub_id)
    referral = refer_onward(
        await uow.consents.list(case.id),
        agency=agency,
        need=need,
        referred_at=referred_at,
        outcome=outcome,
        now=now,
    )
    await uow.onward_referrals.add(case.id, referral)
    values = records.record_of(
        referral, rename={"id": "onward_referral_id"}, leave_out={"outcome_recorded_at"}
    )
    event = records.contract(contract.OnwardReferralMade, of_case(case) | values)
    uow.publish(REFERRAL_MADE, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    return referral


async def record_onward_outcome(
    case_id: uuid.UUID,
    referral_id: uuid.UUID,
    outcome: ReferralOutcome,
    *,
    uow: CaseUnitOfWork,
    hub_id: str | None,
    now: datetime,
) -> OnwardReferral:
    """Record the agency's answer; the same answer again changes nothing and publishes nothing."""
    case = await locked_case(uow, case_id, hub_id)
    referral = await uow.onward_referrals.get(case.id, referral_id)
    if referral is None:
        raise OnwardReferralNotFoundError(referral_id)
    settled = settle_outcome(referral, outcome, now=now)
    if settled is None:
        return referral
    await uow.onward_referrals.save_outcome(settled)
    answer = {"onward_referral_id": settled.id, "outcome": settled.outcome, "recorded_at": now}
    event = records.contract(contract.OnwardReferralOutcomeRecorded, of_case(case) | answer)
    uow.publish(OUTCOME_RECORDED, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    return settled
