"""What a hub asks of a case's lifecycle: one frozen command per transition, named as an order.

Each command names its `kind`, the column of the transition table it is looked up in, and
`occurred_at`, when the thing happened in the world (a contact made yesterday can be recorded
today; the time of recording is passed separately).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, TypeAlias

from gmirs_case.domain.achievement import OutcomeAchievement
from gmirs_case.domain.closure import ClosureReason


class CommandKind(StrEnum):
    ALLOCATE = "allocate"
    REALLOCATE = "reallocate"
    RECORD_FIRST_CONTACT = "record-first-contact"
    BOOK_INITIAL_ASSESSMENT = "book-initial-assessment"
    RECORD_ASSESSMENT_ATTENDED = "record-initial-assessment-attended"
    RECORD_ASSESSMENT_MISSED = "record-initial-assessment-missed"
    ASSESS_NEEDS = "assess-needs"
    AGREE_ACTION_PLAN = "agree-action-plan"
    SHARE_ACTION_PLAN = "share-action-plan"
    RECORD_ACTION_PLAN_APPROVAL = "record-action-plan-approval"
    COMMENCE_INTERVENTION = "commence-intervention"
    COMPLETE_SESSIONS = "complete-sessions"
    OFFER_EXIT_SURVEY = "offer-exit-survey"
    CLOSE_COMPLETED = "close-completed"
    CLOSE_EARLY = "close-early"


@dataclass(frozen=True, slots=True)
class AllocateCase:
    kind: ClassVar[CommandKind] = CommandKind.ALLOCATE
    hub_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ReallocateCase:
    kind: ClassVar[CommandKind] = CommandKind.REALLOCATE
    hub_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class RecordFirstContact:
    kind: ClassVar[CommandKind] = CommandKind.RECORD_FIRST_CONTACT
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class BookInitialAssessment:
    """Book (or rebook, after a missed one) the initial assessment appointment."""

    kind: ClassVar[CommandKind] = CommandKind.BOOK_INITIAL_ASSESSMENT
    appointment_id: uuid.UUID
    starts_at: datetime
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class RecordInitialAssessmentAttended:
    kind: ClassVar[CommandKind] = CommandKind.RECORD_ASSESSMENT_ATTENDED
    appointment_id: uuid.UUID | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class RecordInitialAssessmentMissed:
    kind: ClassVar[CommandKind] = CommandKind.RECORD_ASSESSMENT_MISSED
    appointment_id: uuid.UUID | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AssessNeeds:
    kind: ClassVar[CommandKind] = CommandKind.ASSESS_NEEDS
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AgreeActionPlan:
    """Agree a version of the action plan with the person; earlier versions are kept."""

    kind: ClassVar[CommandKind] = CommandKind.AGREE_ACTION_PLAN
    version: int
    number_of_sessions: int | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ShareActionPlan:
    """Share an agreed version with the probation practitioner (R&M: submit it)."""

    kind: ClassVar[CommandKind] = CommandKind.SHARE_ACTION_PLAN
    version: int
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class RecordActionPlanApproval:
    """The probation practitioner approved a shared version."""

    kind: ClassVar[CommandKind] = CommandKind.RECORD_ACTION_PLAN_APPROVAL
    version: int
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CommenceIntervention:
    """The first session attended after the plan: the intervention commencement appointment."""

    kind: ClassVar[CommandKind] = CommandKind.COMMENCE_INTERVENTION
    appointment_id: uuid.UUID | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CompleteSessions:
    """The sessions ended; the hub may say how far the desired outcomes were achieved."""

    kind: ClassVar[CommandKind] = CommandKind.COMPLETE_SESSIONS
    occurred_at: datetime
    outcomes: OutcomeAchievement | None = None


@dataclass(frozen=True, slots=True)
class OfferExitSurvey:
    kind: ClassVar[CommandKind] = CommandKind.OFFER_EXIT_SURVEY
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CloseCase:
    """Close with a reason; `completed` is a different column from every early ending."""

    reason: ClosureReason
    occurred_at: datetime

    @property
    def kind(self) -> CommandKind:
        if self.reason is ClosureReason.COMPLETED:
            return CommandKind.CLOSE_COMPLETED
        return CommandKind.CLOSE_EARLY


Command: TypeAlias = (
    AllocateCase
    | ReallocateCase
    | RecordFirstContact
    | BookInitialAssessment
    | RecordInitialAssessmentAttended
    | RecordInitialAssessmentMissed
    | AssessNeeds
    | AgreeActionPlan
    | ShareActionPlan
    | RecordActionPlanApproval
    | CommenceIntervention
    | CompleteSessions
    | OfferExitSurvey
    | CloseCase
)
