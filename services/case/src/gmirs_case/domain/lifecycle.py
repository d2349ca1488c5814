"""A case's lifecycle as an explicit state machine, free of clocks and storage.

The path a referral takes through a hub:

    received -> allocated (to a hub) -> first contact made -> initial assessment booked ->
    attended (or missed, then booked again) -> needs assessed -> action plan agreed ->
    shared with the probation practitioner -> approved -> intervention commenced (sessions) ->
    sessions completed -> exit survey offered -> closed (completed)

and from any open state a case can close early with a reason (disengaged, declined,
inappropriate, signposted elsewhere, withdrawn, ended in R&M). An action plan can be agreed
again (a new version; versions are kept by the caller) and shared again at any point before the
sessions end, so a revision during sessions leaves the case in sessions. A case can be
reallocated to another hub while open. Closed is final.

`TRANSITIONS` is the whole rulebook, as data: (state, command kind) -> next state. A pair that is
not in it is refused with `InvalidTransition`, naming the current state (the API's 409). Each
accepted command returns one `LifecycleEvent` named in the past tense; the caller publishes it
on `case.case-events.v1`. Progress reported by Refer and Monitor moves the same case through
`rm_progress.apply_rm_fact`, which has its own ordering rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from gmirs_case.domain.achievement import OutcomeAchievement
from gmirs_case.domain.closure import ClosureReason, RmDeliveryState
from gmirs_case.domain.commands import (
    AgreeActionPlan,
    CloseCase,
    Command,
    CommandKind,
    CompleteSessions,
    RecordActionPlanApproval,
    ShareActionPlan,
)


class CaseState(StrEnum):
    RECEIVED = "received"
    ALLOCATED = "allocated"
    CONTACTED = "contacted"
    INITIAL_ASSESSMENT_MISSED = "initial-assessment-missed"
    INITIAL_ASSESSMENT_BOOKED = "initial-assessment-booked"
    INITIAL_ASSESSMENT_ATTENDED = "initial-assessment-attended"
    NEEDS_ASSESSED = "needs-assessed"
    ACTION_PLAN_AGREED = "action-plan-agreed"
    ACTION_PLAN_SHARED = "action-plan-shared"
    ACTION_PLAN_APPROVED = "action-plan-approved"
    IN_SESSIONS = "in-sessions"
    SESSIONS_COMPLETED = "sessions-completed"
    EXIT_SURVEY_OFFERED = "exit-survey-offered"
    CLOSED = "closed"


PROGRESS: Final = tuple(CaseState)
"""States in order of progress (a missed assessment ranks below a booking: it needs a rebooking)."""

OPEN_STATES: Final = tuple(state for state in CaseState if state is not CaseState.CLOSED)


class EventName(StrEnum):
    """Past-tense name of what a command did; `gmirs.case.<name>.v1` on the wire."""

    CASE_ALLOCATED = "case-allocated"
    CASE_REALLOCATED = "case-reallocated"
    FIRST_CONTACT_MADE = "first-contact-made"
    INITIAL_ASSESSMENT_BOOKED = "initial-assessment-booked"
    INITIAL_ASSESSMENT_ATTENDED = "initial-assessment-attended"
    INITIAL_ASSESSMENT_MISSED = "initial-assessment-missed"
    NEEDS_ASSESSED = "needs-assessed"
    ACTION_PLAN_AGREED = "action-plan-agreed"
    ACTION_PLAN_SHARED = "action-plan-shared"
    ACTION_PLAN_APPROVED = "action-plan-approved"
    INTERVENTION_COMMENCED = "intervention-commenced"
    SESSIONS_COMPLETED = "sessions-completed"
    EXIT_SURVEY_OFFERED = "exit-survey-offered"
    CASE_CLOSED = "case-closed"


_S, _K = CaseState, CommandKind
_PLAN_BEFORE_SESSIONS = (_S.ACTION_PLAN_AGREED, _S.ACTION_PLAN_SHARED, _S.ACTION_PLAN_APPROVED)


def _table() -> Mapping[tuple[CaseState, CommandKind], CaseState]:
    table: dict[tuple[CaseState, CommandKind], CaseState] = {
        (_S.RECEIVED, _K.ALLOCATE): _S.ALLOCATED,
        (_S.ALLOCATED, _K.RECORD_FIRST_CONTACT): _S.CONTACTED,
        (_S.CONTACTED, _K.BOOK_INITIAL_ASSESSMENT): _S.INITIAL_ASSESSMENT_BOOKED,
        (_S.INITIAL_ASSESSMENT_MISSED, _K.BOOK_INITIAL_ASSESSMENT): _S.INITIAL_ASSESSMENT_BOOKED,
        (_S.INITIAL_ASSESSMENT_BOOKED, _K.BOOK_INITIAL_ASSESSMENT): _S.INITIAL_ASSESSMENT_BOOKED,
        (_S.INITIAL_ASSESSMENT_BOOKED, _K.RECORD_ASSESSMENT_ATTENDED): (
            _S.INITIAL_ASSESSMENT_ATTENDED
        ),
        (_S.INITIAL_ASSESSMENT_BOOKED, _K.RECORD_ASSESSMENT_MISSED): _S.INITIAL_ASSESSMENT_MISSED,
        (_S.INITIAL_ASSESSMENT_ATTENDED, _K.ASSESS_NEEDS): _S.NEEDS_ASSESSED,
        (_S.NEEDS_ASSESSED, _K.AGREE_ACTION_PLAN): _S.ACTION_PLAN_AGREED,
        (_S.ACTION_PLAN_AGREED, _K.SHARE_ACTION_PLAN): _S.ACTION_PLAN_SHARED,
        (_S.ACTION_PLAN_SHARED, _K.RECORD_ACTION_PLAN_APPROVAL): _S.ACTION_PLAN_APPROVED,
        (_S.ACTION_PLAN_SHARED, _K.COMMENCE_INTERVENTION): _S.IN_SESSIONS,
        (_S.ACTION_PLAN_APPROVED, _K.COMMENCE_INTERVENTION): _S.IN_SESSIONS,
        (_S.IN_SESSIONS, _K.AGREE_ACTION_PLAN): _S.IN_SESSIONS,
        (_S.IN_SESSIONS, _K.SHARE_ACTION_PLAN): _S.IN_SESSIONS,
        (_S.IN_SESSIONS, _K.RECORD_ACTION_PLAN_APPROVAL): _S.IN_SESSIONS,
        (_S.IN_SESSIONS, _K.COMPLETE_SESSIONS): _S.SESSIONS_COMPLETED,
        (_S.SESSIONS_COMPLETED, _K.OFFER_EXIT_SURVEY): _S.EXIT_SURVEY_OFFERED,
        (_S.SESSIONS_COMPLETED, _K.CLOSE_COMPLETED): _S.CLOSED,
        (_S.EXIT_SURVEY_OFFERED, _K.CLOSE_COMPLETED): _S.CLOSED,
    }
    for state in _PLAN_BEFORE_SESSIONS:  # a revised plan before sessions waits to be shared again
        table[(state, _K.AGREE_ACTION_PLAN)] = _S.ACTION_PLAN_AGREED
    for state in OPEN_STATES:
        table[(state, _K.CLOSE_EARLY)] = _S.CLOSED
        if state is not _S.RECEIVED:
            table[(state, _K.REALLOCATE)] = state
    return MappingProxyType(table)


TRANSITIONS: Final = _table()
"""Every allowed (state, command kind) and the state it leads to; anything else is refused."""

EVENT_OF: Final = MappingProxyType(
    {
        _K.ALLOCATE: EventName.CASE_ALLOCATED,
        _K.REALLOCATE: EventName.CASE_REALLOCATED,
        _K.RECORD_FIRST_CONTACT: EventName.FIRST_CONTACT_MADE,
        _K.BOOK_INITIAL_ASSESSMENT: EventName.INITIAL_ASSESSMENT_BOOKED,
        _K.RECORD_ASSESSMENT_ATTENDED: EventName.INITIAL_ASSESSMENT_ATTENDED,
        _K.RECORD_ASSESSMENT_MISSED: EventName.INITIAL_ASSESSMENT_MISSED,
        _K.ASSESS_NEEDS: EventName.NEEDS_ASSESSED,
        _K.AGREE_ACTION_PLAN: EventName.ACTION_PLAN_AGREED,
        _K.SHARE_ACTION_PLAN: EventName.ACTION_PLAN_SHARED,
        _K.RECORD_ACTION_PLAN_APPROVAL: EventName.ACTION_PLAN_APPROVED,
        _K.COMMENCE_INTERVENTION: EventName.INTERVENTION_COMMENCED,
        _K.COMPLETE_SESSIONS: EventName.SESSIONS_COMPLETED,
        _K.OFFER_EXIT_SURVEY: EventName.EXIT_SURVEY_OFFERED,
        _K.CLOSE_COMPLETED: EventName.CASE_CLOSED,
        _K.CLOSE_EARLY: EventName.CASE_CLOSED,
    }
)
"""The event each command kind produces, whichever state it was accepted in."""


class Source(StrEnum):
    HUB = "hub"
    REFER_AND_MONITOR = "refer-and-monitor"


class InvalidCommand(ValueError):
    """A command no state could accept: a naive or future time, a version below 1."""


class InvalidTransition(Exception):
    """The command is not allowed in the case's current state (an HTTP 409)."""

    def __init__(self, state: CaseState, kind: CommandKind) -> None:
        super().__init__(f"a case in state {state.value!r} cannot {kind.value}")
        self.state = state
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Where a case is, since when, the first time it reached each state, and how it closed.

    `plan_agreed_at` is when the latest action plan version was agreed (KP2 runs from it);
    `outcomes` how far the desired outcomes were achieved, once sessions ended (DS5).
    """

    state: CaseState
    since: datetime
    reached: Mapping[CaseState, datetime] = field(default_factory=dict)
    closure_reason: ClosureReason | None = None
    closure_settled: bool = False
    rm_withdrawal_code: str | None = None
    rm_delivery_state: RmDeliveryState | None = None
    closed_by: Source | None = None
    plan_agreed_at: datetime | None = None
    outcomes: OutcomeAchievement | None = None

    @classmethod
    def received(cls, referral_sent_at: datetime) -> Lifecycle:
        return cls(CaseState.RECEIVED, referral_sent_at, {CaseState.RECEIVED: referral_sent_at})

    def moved_to(self, state: CaseState, at: datetime) -> Lifecycle:
        return replace(self.reaching(state, at), state=state, since=at)

    def reaching(self, state: CaseState, at: datetime) -> Lifecycle:
        """The same case with `state` first reached no later than `at` (order-independent)."""
        earliest = min(at, self.reached.get(state, at))
        if self.reached.get(state) == earliest:
            return self
        return replace(self, reached=MappingProxyType({**self.reached, state: earliest}))


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """What happened: the event's name, the move, when it happened and when it was recorded.

    `cause` is the hub's command (its fields: versions, appointments, hubs) or None when the
    move came from R&M; `lifecycle` is the case after the move, for the KPI times it carries.
    """

    name: EventName
    from_state: CaseState
    to_state: CaseState
    occurred_at: datetime
    recorded_at: datetime
    source: Source
    lifecycle: Lifecycle
    cause: Command | None = None


def next_state(state: CaseState, kind: CommandKind) -> CaseState:
    """The table lookup: the state `kind` leads to from `state`, or InvalidTransition."""
    try:
        return TRANSITIONS[(state, kind)]
    except KeyError:
        raise InvalidTransition(state, kind) from None


def decide(
    lifecycle: Lifecycle, command: Command, *, now: datetime
) -> tuple[Lifecycle, LifecycleEvent]:
    """Apply a hub's command: the case after it and the event it produced."""
    _check(command, now)
    target = next_state(lifecycle.state, command.kind)
    after = lifecycle.moved_to(target, command.occurred_at)
    if isinstance(command, AgreeActionPlan):
        after = replace(after, plan_agreed_at=command.occurred_at)
    if isinstance(command, CompleteSessions) and command.outcomes is not None:
        after = replace(after, outcomes=command.outcomes)
    if isinstance(command, CloseCase):
        after = replace(
            after, closure_reason=command.reason, closure_settled=True, closed_by=Source.HUB
        )
    event = LifecycleEvent(
        name=EVENT_OF[command.kind],
        from_state=lifecycle.state,
        to_state=target,
        occurred_at=command.occurred_at,
        recorded_at=now,
        source=Source.HUB,
        lifecycle=after,
        cause=command,
    )
    return after, event


def _check(command: Command, now: datetime) -> None:
    if command.occurred_at.tzinfo is None or now.tzinfo is None:
        raise InvalidCommand("times must carry a UTC offset")
    if command.occurred_at > now:
        raise InvalidCommand("a command cannot record something that has not happened yet")
    plan = AgreeActionPlan | ShareActionPlan | RecordActionPlanApproval
    if isinstance(command, plan) and command.version < 1:
        raise InvalidCommand("action plan versions start at 1")
    sessions = command.number_of_sessions if isinstance(command, AgreeActionPlan) else None
    if sessions is not None and sessions < 1:
        raise InvalidCommand("an action plan has at least one session")
