"""Moving a case by what Refer and Monitor reports, in whatever order it arrives.

referral-intake turns R&M's domain events into facts (assigned, initial assessment attended or
missed, action plan submitted or approved, session attended, end of service report, ended,
concluded) and publishes them in the order it processed them, not R&M's. So every fact is
applied by its own `occurred_at` and the result does not depend on arrival order:

- A fact moves the case forward to the state it implies, never back: a fact implying a state
  at or behind the current one leaves the state as it is. A fact can skip states (an approval implies the
  submission; a session attended implies the plan), so gaps are tolerated.
- The first time each state was reached is the earliest occurred-at of any fact implying it, so
  a submission arriving after its approval still records when the plan was shared, with a
  late event (same from and to state) that carries the time.
- A missed initial assessment is the one fact that moves a case back (to be rebooked), and only
  while the assessment is booked and the miss happened after the booking.
- A fact the case already holds (the platform's own write-back coming back, or a redelivery)
  changes nothing and produces no event.
- Ended and concluded both close the case, at the earliest of their times. The closure reason
  is worked out from everything R&M said about the ending so far: a withdrawal code decides it
  (settled), else the delivery state (provisional), so a conclusion processed before its ending
  still ends with the reason the ending's code gives (a second case-closed event refines it).
  A case the hub closed stays as the hub closed it.
- Once closed, other facts only fill in when earlier states were first reached.
- The end of service report's outcome ratings (DS5) replace what the hub recorded, even on a
  closed case: R&M's report is the official one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from gmirs_case.domain.achievement import OutcomeAchievement
from gmirs_case.domain.closure import RmDeliveryState, reason_from_rm
from gmirs_case.domain.lifecycle import (
    PROGRESS,
    CaseState,
    EventName,
    Lifecycle,
    LifecycleEvent,
    Source,
)


class RmFactKind(StrEnum):
    ASSIGNED = "assigned"
    INITIAL_ASSESSMENT_ATTENDED = "initial-assessment-attended"
    INITIAL_ASSESSMENT_MISSED = "initial-assessment-missed"
    ACTION_PLAN_SUBMITTED = "action-plan-submitted"
    ACTION_PLAN_APPROVED = "action-plan-approved"
    SESSION_ATTENDED = "session-attended"
    END_OF_SERVICE_REPORT_SUBMITTED = "end-of-service-report-submitted"
    ENDED = "ended"
    CONCLUDED = "concluded"


@dataclass(frozen=True, slots=True)
class RmFact:
    """One piece of R&M progress and when it happened; ending details only on ended/concluded.

    `occurred_at` is R&M's `occurredAt`, except for attendance, where it is the appointment's
    start (which intake's payload carries), so that it matches what the hub recorded.
    """

    kind: RmFactKind
    occurred_at: datetime
    delivery_state: RmDeliveryState | None = None
    withdrawal_code: str | None = None
    outcomes: OutcomeAchievement | None = None


_F, _S = RmFactKind, CaseState
IMPLIES: Final = MappingProxyType(
    {
        _F.ASSIGNED: (_S.ALLOCATED, EventName.CASE_ALLOCATED),
        _F.INITIAL_ASSESSMENT_ATTENDED: (
            _S.INITIAL_ASSESSMENT_ATTENDED,
            EventName.INITIAL_ASSESSMENT_ATTENDED,
        ),
        _F.INITIAL_ASSESSMENT_MISSED: (
            _S.INITIAL_ASSESSMENT_MISSED,
            EventName.INITIAL_ASSESSMENT_MISSED,
        ),
        _F.ACTION_PLAN_SUBMITTED: (_S.ACTION_PLAN_SHARED, EventName.ACTION_PLAN_SHARED),
        _F.ACTION_PLAN_APPROVED: (_S.ACTION_PLAN_APPROVED, EventName.ACTION_PLAN_APPROVED),
        _F.SESSION_ATTENDED: (_S.IN_SESSIONS, EventName.INTERVENTION_COMMENCED),
        _F.END_OF_SERVICE_REPORT_SUBMITTED: (
            _S.SESSIONS_COMPLETED,
            EventName.SESSIONS_COMPLETED,
        ),
    }
)
"""The state each progress fact implies, and the event that reports it."""


def _rank(state: CaseState) -> int:
    return PROGRESS.index(state)


def apply_rm_fact(
    lifecycle: Lifecycle, fact: RmFact, *, now: datetime
) -> tuple[Lifecycle, list[LifecycleEvent]]:
    """The case after an R&M fact, and the events to publish (none if it changed nothing)."""
    if fact.kind in (_F.ENDED, _F.CONCLUDED):
        after = _close(lifecycle, fact)
        name = EventName.CASE_CLOSED
    else:
        target, name = IMPLIES[fact.kind]
        after = _progress(lifecycle, target, fact.occurred_at)
        if fact.outcomes is not None:
            after = replace(after, outcomes=fact.outcomes)
    if after == lifecycle:
        return lifecycle, []
    event = LifecycleEvent(
        name=name,
        from_state=lifecycle.state,
        to_state=after.state,
        occurred_at=fact.occurred_at,
        recorded_at=now,
        source=Source.REFER_AND_MONITOR,
        lifecycle=after,
    )
    return after, [event]


def _progress(lifecycle: Lifecycle, target: CaseState, at: datetime) -> Lifecycle:
    current = lifecycle.state
    if current is _S.CLOSED:
        return lifecycle.reaching(target, at)
    missed_since_booking = (
        target is _S.INITIAL_ASSESSMENT_MISSED
        and current is _S.INITIAL_ASSESSMENT_BOOKED
        and at > lifecycle.since
    )
    if _rank(target) > _rank(current) or missed_since_booking:
        return lifecycle.moved_to(target, at)
    if target is current:
        return replace(lifecycle.reaching(target, at), since=min(lifecycle.since, at))
    return lifecycle.reaching(target, at)


def _close(lifecycle: Lifecycle, fact: RmFact) -> Lifecycle:
    """Close (or refine R&M's closure) from everything R&M said about the ending so far."""
    if lifecycle.closed_by is Source.HUB:
        return lifecycle
    code = lifecycle.rm_withdrawal_code or fact.withdrawal_code or None
    delivery_state = lifecycle.rm_delivery_state or fact.delivery_state
    reason, settled = reason_from_rm(code, delivery_state)
    at = fact.occurred_at
    if lifecycle.state is _S.CLOSED:
        at = min(at, lifecycle.since)
    details = replace(
        lifecycle,
        closure_reason=reason,
        closure_settled=settled,
        rm_withdrawal_code=code,
        rm_delivery_state=delivery_state,
        closed_by=Source.REFER_AND_MONITOR,
    )
    return details.moved_to(_S.CLOSED, at)
