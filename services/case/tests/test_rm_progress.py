"""R&M progress moves a case the same way whatever order intake delivers it in, and only once."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_case.domain.closure import ClosureReason, RmDeliveryState
from gmirs_case.domain.commands import (
    AllocateCase,
    BookInitialAssessment,
    CloseCase,
    RecordFirstContact,
    RecordInitialAssessmentAttended,
)
from gmirs_case.domain.lifecycle import (
    CaseState,
    EventName,
    Lifecycle,
    LifecycleEvent,
    Source,
    decide,
)
from gmirs_case.domain.rm_progress import RmFact, RmFactKind, apply_rm_fact

S, F, D = CaseState, RmFactKind, RmDeliveryState
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = SENT + timedelta(days=200)


def _day(n: int) -> datetime:
    return SENT + timedelta(days=n)


def _apply_all(
    lifecycle: Lifecycle, facts: Sequence[RmFact]
) -> tuple[Lifecycle, list[LifecycleEvent]]:
    events: list[LifecycleEvent] = []
    for fact in facts:
        lifecycle, produced = apply_rm_fact(lifecycle, fact, now=NOW)
        events.extend(produced)
    return lifecycle, events


COMPLETED_WITH_A_MISSED_ASSESSMENT = (
    RmFact(F.ASSIGNED, _day(1)),
    RmFact(F.INITIAL_ASSESSMENT_MISSED, _day(3)),
    RmFact(F.INITIAL_ASSESSMENT_ATTENDED, _day(6)),
    RmFact(F.ACTION_PLAN_SUBMITTED, _day(9)),
    RmFact(F.ACTION_PLAN_APPROVED, _day(10)),
    RmFact(F.SESSION_ATTENDED, _day(13)),
    RmFact(F.CONCLUDED, _day(60), D.COMPLETED),
)
WITHDRAWN_AS_NOT_ENGAGED = (
    RmFact(F.ASSIGNED, _day(1)),
    RmFact(F.INITIAL_ASSESSMENT_ATTENDED, _day(5)),
    RmFact(F.ACTION_PLAN_SUBMITTED, _day(8)),
    RmFact(F.ENDED, _day(20), D.CANCELLED, "NOT"),
    RmFact(F.CONCLUDED, _day(20), D.CANCELLED),
)
ENDED_EARLY_AFTER_A_MOVE = (
    RmFact(F.INITIAL_ASSESSMENT_ATTENDED, _day(5)),
    RmFact(F.ACTION_PLAN_APPROVED, _day(9)),
    RmFact(F.SESSION_ATTENDED, _day(12)),
    RmFact(F.END_OF_SERVICE_REPORT_SUBMITTED, _day(30)),
    RmFact(F.CONCLUDED, _day(31), D.PREMATURELY_ENDED),
    RmFact(F.ENDED, _day(30), D.PREMATURELY_ENDED, "MOV"),
)
STILL_IN_SESSIONS = (
    RmFact(F.ASSIGNED, _day(1)),
    RmFact(F.INITIAL_ASSESSMENT_ATTENDED, _day(5)),
    RmFact(F.ACTION_PLAN_APPROVED, _day(9)),
    RmFact(F.SESSION_ATTENDED, _day(13)),
    RmFact(F.SESSION_ATTENDED, _day(20)),
    RmFact(F.ASSIGNED, _day(22)),
)
SEQUENCES: dict[str, tuple[tuple[RmFact, ...], ClosureReason | None]] = {
    "in-sessions": (STILL_IN_SESSIONS, None),
    "completed": (COMPLETED_WITH_A_MISSED_ASSESSMENT, ClosureReason.COMPLETED),
    "withdrawn": (WITHDRAWN_AS_NOT_ENGAGED, ClosureReason.DISENGAGED),
    "ended-early": (ENDED_EARLY_AFTER_A_MOVE, ClosureReason.WITHDRAWN),
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_every_arrival_order_gives_the_same_case_and_a_replay_changes_nothing(name: str) -> None:
    facts, reason = SEQUENCES[name]
    expected, _ = _apply_all(Lifecycle.received(SENT), sorted(facts, key=lambda f: f.occurred_at))
    assert expected.closure_reason is reason
    if reason is None:
        assert (expected.state, expected.since) == (S.IN_SESSIONS, _day(13))
    else:
        assert (expected.state, expected.closed_by) == (S.CLOSED, Source.REFER_AND_MONITOR)
        endings = [f.occurred_at for f in facts if f.kind in (F.ENDED, F.CONCLUDED)]
        assert expected.since == min(endings)
    for order in itertools.permutations(facts):
        lifecycle, events = _apply_all(Lifecycle.received(SENT), order)
        assert lifecycle == expected, order
        assert events
        assert all(e.source is Source.REFER_AND_MONITOR for e in events)
        again, replayed = _apply_all(lifecycle, order)
        assert (again, replayed) == (lifecycle, [])


def test_the_first_time_each_state_was_reached_is_kept_whatever_the_order() -> None:
    facts = COMPLETED_WITH_A_MISSED_ASSESSMENT
    for order in (facts, tuple(reversed(facts))):
        lifecycle, _ = _apply_all(Lifecycle.received(SENT), order)
        assert lifecycle.reached[S.ACTION_PLAN_SHARED] == _day(9)
        assert lifecycle.reached[S.INITIAL_ASSESSMENT_MISSED] == _day(3)
        assert lifecycle.reached[S.IN_SESSIONS] == _day(13)
        assert S.NEEDS_ASSESSED not in lifecycle.reached  # a gap R&M has no fact for


def test_an_approval_before_its_submission_implies_it_and_the_submission_fills_in_the_time() -> (
    None
):
    approved, events = apply_rm_fact(
        Lifecycle.received(SENT), RmFact(F.ACTION_PLAN_APPROVED, _day(10)), now=NOW
    )
    assert approved.state is S.ACTION_PLAN_APPROVED
    assert [(e.name, e.from_state, e.to_state) for e in events] == [
        (EventName.ACTION_PLAN_APPROVED, S.RECEIVED, S.ACTION_PLAN_APPROVED)
    ]
    late, events = apply_rm_fact(approved, RmFact(F.ACTION_PLAN_SUBMITTED, _day(9)), now=NOW)
    assert late.state is S.ACTION_PLAN_APPROVED
    assert late.since == _day(10)
    assert late.reached[S.ACTION_PLAN_SHARED] == _day(9)
    assert [(e.name, e.from_state, e.to_state, e.occurred_at) for e in events] == [
        (EventName.ACTION_PLAN_SHARED, S.ACTION_PLAN_APPROVED, S.ACTION_PLAN_APPROVED, _day(9))
    ]


def test_a_conclusion_before_its_ending_is_refined_by_the_ending_code() -> None:
    concluded, first = apply_rm_fact(
        Lifecycle(S.IN_SESSIONS, _day(12)), RmFact(F.CONCLUDED, _day(31), D.CANCELLED), now=NOW
    )
    assert (concluded.closure_reason, concluded.closure_settled) == (
        ClosureReason.ENDED_IN_RM,
        False,
    )
    ended, second = apply_rm_fact(concluded, RmFact(F.ENDED, _day(30), D.CANCELLED, "NEE"), now=NOW)
    assert (ended.closure_reason, ended.closure_settled) == (
        ClosureReason.SIGNPOSTED_ELSEWHERE,
        True,
    )
    assert ended.rm_withdrawal_code == "NEE"
    assert ended.since == _day(30)
    assert [e.name for e in first + second] == [EventName.CASE_CLOSED, EventName.CASE_CLOSED]
    assert second[0].lifecycle.closure_reason is ClosureReason.SIGNPOSTED_ELSEWHERE


def _hub_case_assessed_at(attended_at: datetime) -> Lifecycle:
    lifecycle = Lifecycle.received(SENT)
    for command in (
        AllocateCase("bolton", _day(0)),
        RecordFirstContact(_day(1)),
        BookInitialAssessment(uuid.uuid4(), attended_at, _day(1)),
        RecordInitialAssessmentAttended(None, attended_at),
    ):
        lifecycle, _ = decide(lifecycle, command, now=NOW)
    return lifecycle


def test_the_hubs_own_write_back_coming_back_from_rm_changes_nothing() -> None:
    hub = _hub_case_assessed_at(_day(5))
    for fact in (
        RmFact(F.INITIAL_ASSESSMENT_ATTENDED, _day(5)),
        RmFact(F.ASSIGNED, _day(0)),
        RmFact(F.ASSIGNED, _day(7)),
    ):
        assert apply_rm_fact(hub, fact, now=NOW) == (hub, [])


def test_a_later_dated_fact_never_moves_the_case_back() -> None:
    hub = _hub_case_assessed_at(_day(5))
    after, events = apply_rm_fact(hub, RmFact(F.INITIAL_ASSESSMENT_MISSED, _day(9)), now=NOW)
    assert after.state is S.INITIAL_ASSESSMENT_ATTENDED
    assert after.reached[S.INITIAL_ASSESSMENT_MISSED] == _day(9)
    assert [e.to_state for e in events] == [S.INITIAL_ASSESSMENT_ATTENDED]


def test_a_missed_assessment_moves_a_booking_back_only_if_it_is_newer_than_the_booking() -> None:
    booked = Lifecycle(S.INITIAL_ASSESSMENT_BOOKED, _day(4), {S.INITIAL_ASSESSMENT_BOOKED: _day(2)})
    older, _ = apply_rm_fact(booked, RmFact(F.INITIAL_ASSESSMENT_MISSED, _day(3)), now=NOW)
    assert older.state is S.INITIAL_ASSESSMENT_BOOKED
    newer, events = apply_rm_fact(booked, RmFact(F.INITIAL_ASSESSMENT_MISSED, _day(6)), now=NOW)
    assert newer.state is S.INITIAL_ASSESSMENT_MISSED
    assert newer.since == _day(6)
    assert [e.name for e in events] == [EventName.INITIAL_ASSESSMENT_MISSED]


def test_a_case_the_hub_closed_keeps_the_hubs_reason() -> None:
    hub, _ = decide(
        Lifecycle(S.IN_SESSIONS, _day(12)),
        CloseCase(ClosureReason.DECLINED, _day(20)),
        now=_day(20),
    )
    for fact in (
        RmFact(F.ENDED, _day(21), D.CANCELLED, "NOT"),
        RmFact(F.CONCLUDED, _day(19), D.CANCELLED),
    ):
        assert apply_rm_fact(hub, fact, now=NOW) == (hub, [])


def test_facts_after_closure_only_fill_in_history() -> None:
    closed, _ = apply_rm_fact(
        Lifecycle(S.IN_SESSIONS, _day(12)), RmFact(F.CONCLUDED, _day(40), D.COMPLETED), now=NOW
    )
    after, events = apply_rm_fact(
        closed, RmFact(F.END_OF_SERVICE_REPORT_SUBMITTED, _day(39)), now=NOW
    )
    assert after.state is S.CLOSED
    assert after.reached[S.SESSIONS_COMPLETED] == _day(39)
    assert [(e.name, e.to_state) for e in events] == [(EventName.SESSIONS_COMPLETED, S.CLOSED)]
