"""Request and response shapes of the distance-travelled tool (the platform's own 1-10 scale)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from gmirs_contracts import common

Score = Annotated[StrictInt, Field(ge=1, le=10, description="1: greatest need, 10: none.")]


class AreaScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: common.OutcomeArea
    complexity: common.Complexity | None = Field(default=None, description="Required at baseline.")
    self_score: Score
    staff_score: Score


class AssessmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: common.AssessmentStage
    occurred_at: common.Moment
    areas: Annotated[list[AreaScoreIn], Field(min_length=1, max_length=12)]
    corrects: uuid.UUID | None = Field(
        default=None, description="The assessment of the same stage this one replaces."
    )


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AreaScoreRead(_Read):
    area: common.OutcomeArea
    complexity: common.Complexity | None
    self_score: int
    staff_score: int


class AssessmentRead(_Read):
    id: uuid.UUID
    stage: common.AssessmentStage
    areas: list[AreaScoreRead]
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    corrects: uuid.UUID | None


class ScoresRead(_Read):
    self_score: float
    staff_score: float


class AreaProgressRead(_Read):
    area: common.OutcomeArea
    complexity: common.Complexity | None
    baseline: ScoresRead
    latest: ScoresRead
    exit: ScoresRead | None
    change: ScoresRead = Field(description="latest minus baseline (positive is progress).")


class OverallRead(_Read):
    baseline: ScoresRead
    latest: ScoresRead
    exit: ScoresRead | None
    change: ScoresRead


class DistanceTravelledRead(_Read):
    areas: list[AreaProgressRead]
    overall: OverallRead | None = Field(description="Means over the baseline's areas.")
