"""Needs and distance travelled: the platform's own 1-10 scores per outcome area over time.

The specification's twelve outcome areas are scored at a baseline (with each area's
complexity), at any number of reviews and at exit, by the person (self-reported) and by the
worker (staff-reported), on the platform's own scale: 1 is the greatest need, 10 none. The
rules:

- One baseline. It covers the areas in which the person has needs: all twelve or any subset,
  no area twice, and each baseline area has a complexity.
- Reviews and the exit need a baseline and score only areas the baseline scored; one exit, and
  nothing but corrections after it.
- A correction is a new assessment of the same stage naming the one it replaces (`corrects`);
  the replaced one stays on record but no longer counts. A second baseline without `corrects`
  is refused (409), naming the existing one.
- Distance travelled, per area: baseline, latest (the most recent assessment that scored it)
  and exit scores, and change = latest minus baseline; overall: the means over the baseline's
  areas, rounded to two places.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gmirs_case.domain.model import CaseError

MIN_SCORE, MAX_SCORE = 1, 10


class OutcomeArea(StrEnum):
    EMOTIONAL_AND_MENTAL_HEALTH = "emotional-and-mental-health"
    PHYSICAL_HEALTH = "physical-health"
    SHELTER_AND_ACCOMMODATION = "shelter-and-accommodation"
    FAMILY_FRIENDS_AND_CHILDREN = "family-friends-and-children"
    EDUCATION_SKILLS_AND_EMPLOYMENT = "education-skills-and-employment"
    DRUGS_AND_ALCOHOL = "drugs-and-alcohol"
    FINANCE_AND_BENEFITS = "finance-and-benefits"
    OUTLOOK_AND_ATTITUDES = "outlook-and-attitudes"
    SOCIAL_INTERACTIONS_AND_NETWORKS = "social-interactions-and-networks"
    MEANINGFUL_USE_OF_TIME = "meaningful-use-of-time"
    MOTIVATION_TO_DESIST_FROM_OFFENDING = "motivation-to-desist-from-offending"
    SELF_CARE_AND_LIVING_SKILLS = "self-care-and-living-skills"


class Complexity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AssessmentStage(StrEnum):
    BASELINE = "baseline"
    REVIEW = "review"
    EXIT = "exit"


class AssessmentConflictError(CaseError):
    """The assessment does not fit the case's assessments so far (a 409)."""


class InvalidAssessmentError(CaseError):
    """The assessment breaks a rule of its own content (a 422)."""


@dataclass(frozen=True, slots=True)
class AreaScore:
    area: OutcomeArea
    complexity: Complexity | None
    self_score: int
    staff_score: int


@dataclass(frozen=True, slots=True)
class OutcomeAssessment:
    id: uuid.UUID
    stage: AssessmentStage
    areas: tuple[AreaScore, ...]
    occurred_at: datetime
    recorded_at: datetime
    corrects: uuid.UUID | None = None

    def score_of(self, area: OutcomeArea) -> AreaScore | None:
        return next((s for s in self.areas if s.area is area), None)


def current(assessments: Sequence[OutcomeAssessment]) -> list[OutcomeAssessment]:
    """The assessments that count: those no correction replaced, oldest first."""
    replaced = {a.corrects for a in assessments if a.corrects is not None}
    live = [a for a in assessments if a.id not in replaced]
    return sorted(live, key=lambda a: (a.occurred_at, a.recorded_at))


def _of_stage(
    live: Sequence[OutcomeAssessment], stage: AssessmentStage
) -> OutcomeAssessment | None:
    return next((a for a in live if a.stage is stage), None)


def assess(
    existing: Sequence[OutcomeAssessment],
    *,
    stage: AssessmentStage,
    areas: Sequence[AreaScore],
    occurred_at: datetime,
    now: datetime,
    corrects: uuid.UUID | None = None,
) -> OutcomeAssessment:
    """A new assessment (or correction) that fits `existing`, or the reason it does not."""
    _check_content(stage, areas, occurred_at, now)
    live = current(existing)
    if corrects is None:
        _check_sequence(live, stage)
    else:
        _check_correction(live, stage, corrects)
    baseline = _of_stage(live, AssessmentStage.BASELINE)
    if stage is not AssessmentStage.BASELINE and baseline is not None:
        outside = [s.area.value for s in areas if baseline.score_of(s.area) is None]
        if outside:
            raise InvalidAssessmentError(f"areas not scored at baseline: {', '.join(outside)}")
    return OutcomeAssessment(uuid.uuid4(), stage, tuple(areas), occurred_at, now, corrects)


def _check_content(
    stage: AssessmentStage, areas: Sequence[AreaScore], occurred_at: datetime, now: datetime
) -> None:
    if not areas:
        raise InvalidAssessmentError("an assessment scores at least one outcome area")
    if len({s.area for s in areas}) != len(areas):
        raise InvalidAssessmentError("an outcome area appears more than once")
    for s in areas:
        for score in (s.self_score, s.staff_score):
            if type(score) is not int or not MIN_SCORE <= score <= MAX_SCORE:
                raise InvalidAssessmentError(f"scores are whole numbers {MIN_SCORE} to {MAX_SCORE}")
    if stage is AssessmentStage.BASELINE and any(s.complexity is None for s in areas):
        raise InvalidAssessmentError("every area of a baseline has a complexity")
    if occurred_at > now:
        raise InvalidAssessmentError("occurred_at is in the future")


def _check_sequence(live: Sequence[OutcomeAssessment], stage: AssessmentStage) -> None:
    baseline = _of_stage(live, AssessmentStage.BASELINE)
    if stage is AssessmentStage.BASELINE and baseline is not None:
        raise AssessmentConflictError(
            f"a baseline assessment already exists ({baseline.id}); "
            "to change it, record a baseline that corrects it"
        )
    if stage is not AssessmentStage.BASELINE and baseline is None:
        raise AssessmentConflictError(f"no baseline assessment yet: a {stage.value} needs one")
    ended = _of_stage(live, AssessmentStage.EXIT)
    if stage is not AssessmentStage.BASELINE and ended is not None:
        raise AssessmentConflictError(
            f"an exit assessment already exists ({ended.id}); only corrections follow it"
        )


def _check_correction(
    live: Sequence[OutcomeAssessment], stage: AssessmentStage, corrects: uuid.UUID
) -> None:
    target = next((a for a in live if a.id == corrects), None)
    if target is None:
        raise AssessmentConflictError(
            f"assessment {corrects} is not a current assessment of this case"
        )
    if target.stage is not stage:
        raise InvalidAssessmentError(
            f"a correction keeps the stage: {corrects} is a {target.stage.value}"
        )
