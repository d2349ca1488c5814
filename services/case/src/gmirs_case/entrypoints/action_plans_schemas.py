"""Request and response shapes of a case's action plan: versions of goals, activities, sessions."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from gmirs_case.domain.action_plans import MAX_ACTIVITIES, MAX_GOALS, MAX_SESSIONS, ActionPlan
from gmirs_case.domain.lifecycle import Lifecycle
from gmirs_case.entrypoints.lifecycle_schemas import Happened, LifecycleRead
from gmirs_contracts import common
from gmirs_contracts.case_people import WorkerUsername

GoalText = Annotated[common.Line, Field(min_length=1, max_length=300)]
ActivityText = Annotated[common.FreeText, Field(min_length=1, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoalIn(_Strict):
    area: common.OutcomeArea
    description: GoalText = Field(description="What the person wants to achieve in the area.")
    target: GoalText | None = Field(default=None, description="How they will know (optional).")


class ActivityIn(_Strict):
    description: ActivityText
    area: common.OutcomeArea | None = Field(
        default=None, description="The outcome area it serves (one the goals cover)."
    )


class ActionPlanCreate(Happened):
    """A new version, agreed with the person at `occurred_at`; the platform numbers it."""

    agreed_by: WorkerUsername = Field(description="The worker who agreed it with the person.")
    number_of_sessions: Annotated[StrictInt, Field(ge=1, le=MAX_SESSIONS)]
    goals: Annotated[list[GoalIn], Field(min_length=1, max_length=MAX_GOALS)]
    activities: Annotated[list[ActivityIn], Field(min_length=1, max_length=MAX_ACTIVITIES)]


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GoalRead(_Read):
    area: common.OutcomeArea
    description: str
    target: str | None


class ActivityRead(_Read):
    description: str
    area: common.OutcomeArea | None


class ActionPlanSummary(_Read):
    """A version without its free text: what it covers, and when it moved."""

    id: uuid.UUID
    version: int
    revises: int | None = Field(description="The version this one replaced.")
    number_of_sessions: int
    outcome_areas: list[common.OutcomeArea] = Field(description="The areas its goals cover.")
    activity_count: int
    agreed_at: AwareDatetime
    recorded_at: AwareDatetime
    shared_at: AwareDatetime | None
    shared_recorded_at: AwareDatetime | None
    approved_at: AwareDatetime | None
    approved_recorded_at: AwareDatetime | None


class ActionPlanRead(ActionPlanSummary):
    goals: list[GoalRead]
    activities: list[ActivityRead]
    agreed_by: str


class ActionPlanChange(ActionPlanRead):
    """The version after the change, and the case's lifecycle after it."""

    lifecycle: LifecycleRead

    @classmethod
    def of(cls, plan: ActionPlan, lifecycle: Lifecycle) -> ActionPlanChange:
        read = ActionPlanRead.model_validate(plan)
        return cls.model_validate({**dict(read), "lifecycle": LifecycleRead.of(lifecycle)})


class ActionPlanList(BaseModel):
    items: list[ActionPlanSummary] = Field(description="Every version, oldest first.")
