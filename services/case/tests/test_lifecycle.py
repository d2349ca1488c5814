"""The case lifecycle's transition table, pair by pair, and what each accepted command returns."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_case.domain.closure import ClosureReason
from gmirs_case.domain.commands import (
    AgreeActionPlan,
    AllocateCase,
    AssessNeeds,
    BookInitialAssessment,
    CloseCase,
    Command,
    CommandKind,
    CommenceIntervention,
    CompleteSessions,
    OfferExitSurvey,
    ReallocateCase,
    RecordActionPlanApproval,
    RecordFirstContact,
    RecordInitialAssessmentAttended,
    RecordInitialAssessmentMissed,
    ShareActionPlan,
)
from gmirs_case.domain.lifecycle import (
    EVENT_OF,
    TRANSITIONS,
    CaseState,
    EventName,
    InvalidCommand,
    InvalidTransition,
    Lifecycle,
    Source,
    decide,
    next_state,
)

S, K = CaseState, CommandKind
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPEN = [state for state in CaseState if state is not S.CLOSED]
PLAN_BEFORE_SESSIONS = [S.ACTION_PLAN_AGREED, S.ACTION_PLAN_SHARED, S.ACTION_PLAN_APPROVED]

EXPECTED: dict[tuple[CaseState, CommandKind], CaseState] = {
    (S.RECEIVED, K.ALLOCATE): S.ALLOCATED,
    (S.ALLOCATED, K.RECORD_FIRST_CONTACT): S.CONTACTED,
    (S.CONTACTED, K.BOOK_INITIAL_ASSESSMENT): S.INITIAL_ASSESSMENT_BOOKED,
    (S.INITIAL_ASSESSMENT_BOOKED, K.BOOK_INITIAL_ASSESSMENT): S.INITIAL_ASSESSMENT_BOOKED,
    (S.INITIAL_ASSESSMENT_MISSED, K.BOOK_INITIAL_ASSESSMENT): S.INITIAL_ASSESSMENT_BOOKED,
    (S.INITIAL_ASSESSMENT_BOOKED, K.RECORD_ASSESSMENT_ATTENDED): S.INITIAL_ASSESSMENT_ATTENDED,
    (S.INITIAL_ASSESSMENT_BOOKED, K.RECORD_ASSESSMENT_MISSED): S.INITIAL_ASSESSMENT_MISSED,
    (S.INITIAL_ASSESSMENT_ATTENDED, K.ASSESS_NEEDS): S.NEEDS_ASSESSED,
    (S.NEEDS_ASSESSED, K.AGREE_ACTION_PLAN): S.ACTION_PLAN_AGREED,
    **{(state, K.AGREE_ACTION_PLAN): S.ACTION_PLAN_AGREED for state in PLAN_BEFORE_SESSIONS},
    (S.ACTION_PLAN_AGREED, K.SHARE_ACTION_PLAN): S.ACTION_PLAN_SHARED,
    (S.ACTION_PLAN_SHARED, K.RECORD_ACTION_PLAN_APPROVAL): S.ACTION_PLAN_APPROVED,
    (S.ACTION_PLAN_SHARED, K.COMMENCE_INTERVENTION): S.IN_SESSIONS,
    (S.ACTION_PLAN_APPROVED, K.COMMENCE_INTERVENTION): S.IN_SESSIONS,
    (S.IN_SESSIONS, K.AGREE_ACTION_PLAN): S.IN_SESSIONS,
    (S.IN_SESSIONS, K.SHARE_ACTION_PLAN): S.IN_SESSIONS,
    (S.IN_SESSIONS, K.RECORD_ACTION_PLAN_APPROVAL): S.IN_SESSIONS,
    (S.IN_SESSIONS, K.COMPLETE_SESSIONS): S.SESSIONS_COMPLETED,
    (S.SESSIONS_COMPLETED, K.OFFER_EXIT_SURVEY): S.EXIT_SURVEY_OFFERED,
    (S.SESSIONS_COMPLETED, K.CLOSE_COMPLETED): S.CLOSED,
    (S.EXIT_SURVEY_OFFERED, K.CLOSE_COMPLETED): S.CLOSED,
    **{(state, K.CLOSE_EARLY): S.CLOSED for state in OPEN},
    **{(state, K.REALLOCATE): state for state in OPEN if state is not S.RECEIVED},
}
"""The lifecycle written out independently of the implementation's table."""

ALL_PAIRS = list(itertools.product(CaseState, CommandKind))


@pytest.mark.parametrize(("state", "kind"), ALL_PAIRS, ids=[f"{s}-{k}" for s, k in ALL_PAIRS])
def test_every_state_and_command_is_allowed_or_refused_as_specified(
    state: CaseState, kind: CommandKind
) -> None:
    expected = EXPECTED.get((state, kind))
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            next_state(state, kind)
        assert refused.value.state is state
        assert refused.value.kind is kind
    else:
        assert next_state(state, kind) is expected


def test_the_table_holds_nothing_beyond_the_specification() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_closed_is_final_and_every_open_state_can_close_early() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] is S.CLOSED]
    assert all((state, K.CLOSE_EARLY) in TRANSITIONS for state in OPEN)


def test_every_command_kind_has_an_event() -> None:
    assert set(EVENT_OF) == set(CommandKind)
    assert EVENT_OF[K.CLOSE_EARLY] is EVENT_OF[K.CLOSE_COMPLETED] is EventName.CASE_CLOSED


def test_refusal_names_the_current_state_and_the_command() -> None:
    lifecycle = Lifecycle.received(SENT)
    with pytest.raises(InvalidTransition, match=r"state 'received' cannot share-action-plan"):
        decide(lifecycle, ShareActionPlan(version=1, occurred_at=SENT), now=SENT)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (reason, K.CLOSE_COMPLETED if reason is ClosureReason.COMPLETED else K.CLOSE_EARLY)
        for reason in ClosureReason
    ],
)
def test_closing_as_completed_is_its_own_column(reason: ClosureReason, kind: CommandKind) -> None:
    assert CloseCase(reason, SENT).kind is kind


def test_an_early_completion_is_refused_before_sessions_end() -> None:
    lifecycle = Lifecycle(S.IN_SESSIONS, SENT)
    with pytest.raises(InvalidTransition, match="in-sessions"):
        decide(lifecycle, CloseCase(ClosureReason.COMPLETED, SENT), now=SENT)
    closed, event = decide(lifecycle, CloseCase(ClosureReason.DISENGAGED, SENT), now=SENT)
    assert (closed.state, closed.closure_reason, closed.closed_by) == (
        S.CLOSED,
        ClosureReason.DISENGAGED,
        Source.HUB,
    )
    assert event.name is EventName.CASE_CLOSED


def _day(n: int) -> datetime:
    return SENT + timedelta(days=n)


def test_a_whole_case_from_referral_to_closure() -> None:
    appointment = uuid.uuid4()
    steps: list[tuple[Command, EventName]] = [
        (AllocateCase("bolton", _day(0)), EventName.CASE_ALLOCATED),
        (RecordFirstContact(_day(1)), EventName.FIRST_CONTACT_MADE),
        (BookInitialAssessment(appointment, _day(4), _day(1)), EventName.INITIAL_ASSESSMENT_BOOKED),
        (RecordInitialAssessmentMissed(appointment, _day(4)), EventName.INITIAL_ASSESSMENT_MISSED),
        (
            BookInitialAssessment(uuid.uuid4(), _day(6), _day(4)),
            EventName.INITIAL_ASSESSMENT_BOOKED,
        ),
        (RecordInitialAssessmentAttended(None, _day(6)), EventName.INITIAL_ASSESSMENT_ATTENDED),
        (ReallocateCase("bury", _day(6)), EventName.CASE_REALLOCATED),
        (AssessNeeds(_day(6)), EventName.NEEDS_ASSESSED),
        (AgreeActionPlan(1, 6, _day(8)), EventName.ACTION_PLAN_AGREED),
        (ShareActionPlan(1, _day(9)), EventName.ACTION_PLAN_SHARED),
        (RecordActionPlanApproval(1, _day(10)), EventName.ACTION_PLAN_APPROVED),
        (CommenceIntervention(uuid.uuid4(), _day(13)), EventName.INTERVENTION_COMMENCED),
        (AgreeActionPlan(2, 8, _day(20)), EventName.ACTION_PLAN_AGREED),
        (CompleteSessions(_day(60)), EventName.SESSIONS_COMPLETED),
        (OfferExitSurvey(_day(61)), EventName.EXIT_SURVEY_OFFERED),
        (CloseCase(ClosureReason.COMPLETED, _day(62)), EventName.CASE_CLOSED),
    ]
    lifecycle = Lifecycle.received(SENT)
    for command, name in steps:
        before = lifecycle.state
        lifecycle, event = decide(lifecycle, command, now=_day(100))
        assert (event.name, event.from_state, event.to_state) == (name, before, lifecycle.state)
        assert (event.occurred_at, event.recorded_at) == (command.occurred_at, _day(100))
        assert event.cause == command
        assert event.source is Source.HUB
        assert event.lifecycle == lifecycle
    assert lifecycle.state is S.CLOSED
    assert lifecycle.closure_reason is ClosureReason.COMPLETED
    assert lifecycle.reached[S.RECEIVED] == SENT
    assert lifecycle.reached[S.INITIAL_ASSESSMENT_BOOKED] == _day(1)  # the first booking
    assert lifecycle.reached[S.INITIAL_ASSESSMENT_ATTENDED] == _day(6)
    assert lifecycle.reached[S.SESSIONS_COMPLETED] == _day(60)
    assert lifecycle.since == _day(62)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (RecordFirstContact(_day(2)), "not happened yet"),
        (RecordFirstContact(datetime(2026, 3, 2, 9, 0)), "UTC offset"),
        (AgreeActionPlan(0, 4, _day(0)), "versions start at 1"),
        (ShareActionPlan(0, _day(0)), "versions start at 1"),
        (AgreeActionPlan(1, 0, _day(0)), "at least one session"),
    ],
)
def test_commands_no_state_could_accept_are_refused_before_the_table(
    command: Command, message: str
) -> None:
    lifecycle = Lifecycle(S.ALLOCATED, SENT)
    with pytest.raises(InvalidCommand, match=message):
        decide(lifecycle, command, now=_day(1))


def test_the_latest_plan_version_records_when_it_was_agreed() -> None:
    lifecycle = Lifecycle(S.IN_SESSIONS, _day(13), {S.ACTION_PLAN_AGREED: _day(8)})
    revised, _ = decide(lifecycle, AgreeActionPlan(2, 8, _day(20)), now=_day(21))
    assert (revised.state, revised.plan_agreed_at) == (S.IN_SESSIONS, _day(20))
    assert revised.reached[S.ACTION_PLAN_AGREED] == _day(8)
