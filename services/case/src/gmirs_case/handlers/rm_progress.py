"""Progress reported by Refer and Monitor (through intake) moves the referral's case.

Facts are applied with `apply_rm_fact`, which makes the order they arrive in irrelevant. An R&M
appointment becomes one of the case's appointments, keyed by R&M's appointment id; attendance
the case already holds for it (the hub's own, written back to R&M) changes nothing. Progress
for a referral with no case yet (not yet received or not yet routed) is held and applied when
its case opens, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.achievement import OutcomeAchievement
from gmirs_case.domain.closure import RmDeliveryState
from gmirs_case.domain.model import Case
from gmirs_case.domain.rm_progress import RmFact, RmFactKind, apply_rm_fact
from gmirs_case.handlers.lifecycle import publish_moves
from gmirs_case.handlers.people import take_rm_assignment
from gmirs_case.handlers.rm_appointments import record_rm_appointment
from gmirs_contracts import intake_progress as p
from gmirs_contracts.registry import EVENTS, contract_for
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.subscriptions import Handles

Progress: TypeAlias = (
    p.ReferralAssigned
    | p.AttendanceRecorded
    | p.ActionPlanSubmitted
    | p.ActionPlanApproved
    | p.EndOfServiceReportSubmitted
    | p.ReferralEnded
    | p.ReferralConcluded
)
CONSUMED: tuple[type[Progress], ...] = (
    p.ReferralAssigned,
    p.AttendanceRecorded,
    p.ActionPlanSubmitted,
    p.ActionPlanApproved,
    p.EndOfServiceReportSubmitted,
    p.ReferralEnded,
    p.ReferralConcluded,
)


def subscriptions() -> list[Handles[Any, CaseUnitOfWork]]:
    return [
        Handles(
            contract_for(model),
            on_rm_assigned if model is p.ReferralAssigned else on_rm_progress,
        )
        for model in CONSUMED
    ]


async def on_rm_assigned(assigned: p.ReferralAssigned, event: Event, uow: CaseUnitOfWork) -> None:
    """R&M's assignment both names the case's worker and moves its lifecycle (allocated)."""
    await take_rm_assignment(assigned, event, uow)
    await on_rm_progress(assigned, event, uow)


async def on_rm_progress(progress: Progress, event: Event, uow: CaseUnitOfWork) -> None:
    case = await uow.cases.for_referral(progress.referral_id)
    if case is None:
        await uow.lifecycles.hold(
            progress.referral_id, event.id, event.type, dict(event.data), datetime.now(UTC)
        )
        return
    await apply_progress(uow, case, progress, now=datetime.now(UTC))


async def apply_held(uow: CaseUnitOfWork, case: Case, *, now: datetime) -> None:
    """Apply the progress that arrived before the case opened, in arrival order."""
    for ce_type, data in await uow.lifecycles.take_held(case.referral_id):
        progress = EVENTS[ce_type].model.parse_tolerant(data)
        await apply_progress(uow, case, progress, now=now)


async def apply_progress(
    uow: CaseUnitOfWork, case: Case, progress: Progress, *, now: datetime
) -> None:
    known = isinstance(progress, p.AttendanceRecorded) and (
        await record_rm_appointment(uow, case, progress, now=now) is None
    )
    if known:
        return  # the case already held this attendance (the hub's own, written back)
    facts = facts_of(progress)
    if not facts:
        return
    lifecycle = await uow.lifecycles.get(case.id)
    for fact in facts:
        after, moves = apply_rm_fact(lifecycle, fact, now=now)
        if moves:
            lifecycle = after
            await uow.lifecycles.save(case.id, after)
            publish_moves(uow, case, moves)


def facts_of(progress: Progress) -> Sequence[RmFact]:
    """The lifecycle facts an intake progress event states (none for a missed session)."""
    if isinstance(progress, p.AttendanceRecorded):
        return _attendance_facts(progress)
    if isinstance(progress, p.ReferralEnded | p.ReferralConcluded):
        return [_ending(progress)]
    kind, at = _MOVES[type(progress)], _time_of(progress)
    if at is None:
        return []
    if isinstance(progress, p.EndOfServiceReportSubmitted):
        levels = [outcome.achievement_level for outcome in progress.outcomes]
        return [RmFact(kind, at, outcomes=OutcomeAchievement.of_levels(levels))]
    return [RmFact(kind, at)]


_MOVES: dict[type[Progress], RmFactKind] = {
    p.ReferralAssigned: RmFactKind.ASSIGNED,
    p.ActionPlanSubmitted: RmFactKind.ACTION_PLAN_SUBMITTED,
    p.ActionPlanApproved: RmFactKind.ACTION_PLAN_APPROVED,
    p.EndOfServiceReportSubmitted: RmFactKind.END_OF_SERVICE_REPORT_SUBMITTED,
}


def _time_of(progress: Progress) -> datetime | None:
    """When R&M says it happened (an unsubmitted plan's submission has no time: no fact)."""
    if isinstance(progress, p.ReferralAssigned):
        return progress.assigned_at
    if isinstance(progress, p.ActionPlanApproved):
        return progress.approved_at
    if isinstance(progress, p.ActionPlanSubmitted | p.EndOfServiceReportSubmitted):
        return progress.submitted_at
    return None


def _ending(progress: p.ReferralEnded | p.ReferralConcluded) -> RmFact:
    state = RmDeliveryState(progress.delivery_state) if progress.delivery_state else None
    if isinstance(progress, p.ReferralEnded):
        return RmFact(RmFactKind.ENDED, progress.ended_at, state, progress.withdrawal_code)
    return RmFact(RmFactKind.CONCLUDED, progress.concluded_at, state)


def _attendance_facts(progress: p.AttendanceRecorded) -> list[RmFact]:
    at = progress.appointment_starts_at
    if progress.appointment_kind == "initial-assessment":
        missed = progress.non_attendance
        kind = (
            RmFactKind.INITIAL_ASSESSMENT_MISSED
            if missed
            else RmFactKind.INITIAL_ASSESSMENT_ATTENDED
        )
        return [RmFact(kind, at)]
    if progress.non_attendance:
        return []
    return [RmFact(RmFactKind.SESSION_ATTENDED, at)]
