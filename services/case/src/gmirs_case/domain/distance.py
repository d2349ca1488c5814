"""Distance travelled: each outcome area's scores from baseline to now, and the overall means.

Per area of the baseline: its complexity, the baseline, latest (the most recent current
assessment that scored the area, the baseline itself until a review does) and exit scores, and
change = latest minus baseline (positive is progress: 10 is no need). Overall: the mean over
the baseline's areas of the baseline and latest scores and their difference, and the mean of
the exit scores over the areas the exit scored; rounded to two places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from gmirs_case.domain.outcomes import (
    AreaScore,
    AssessmentStage,
    Complexity,
    OutcomeArea,
    OutcomeAssessment,
    current,
)

PLACES = 2


@dataclass(frozen=True, slots=True)
class Scores:
    self_score: float
    staff_score: float

    def minus(self, other: Scores) -> Scores:
        return _rounded(self.self_score - other.self_score, self.staff_score - other.staff_score)


@dataclass(frozen=True, slots=True)
class Overall:
    """Scores at baseline, latest and exit (over the baseline's areas: their means)."""

    baseline: Scores
    latest: Scores
    exit: Scores | None

    @property
    def change(self) -> Scores:
        return self.latest.minus(self.baseline)


@dataclass(frozen=True, slots=True)
class AreaProgress(Overall):
    area: OutcomeArea
    complexity: Complexity | None


@dataclass(frozen=True, slots=True)
class DistanceTravelled:
    areas: list[AreaProgress]
    overall: Overall | None


def distance_travelled(assessments: Sequence[OutcomeAssessment]) -> DistanceTravelled:
    """The distance travelled so far (no areas and no overall before a baseline)."""
    live = current(assessments)
    baseline = next((a for a in live if a.stage is AssessmentStage.BASELINE), None)
    if baseline is None:
        return DistanceTravelled([], None)
    ending = next((a for a in live if a.stage is AssessmentStage.EXIT), None)
    areas = [_progress(s, live, ending) for s in sorted(baseline.areas, key=_area_order)]
    exits = [a.exit for a in areas if a.exit is not None]
    overall = Overall(
        baseline=_mean([a.baseline for a in areas]),
        latest=_mean([a.latest for a in areas]),
        exit=_mean(exits) if exits else None,
    )
    return DistanceTravelled(areas, overall)


def _progress(
    first: AreaScore, live: Sequence[OutcomeAssessment], ending: OutcomeAssessment | None
) -> AreaProgress:
    scored = [s for a in live if (s := a.score_of(first.area)) is not None]
    at_exit = ending.score_of(first.area) if ending else None
    return AreaProgress(
        area=first.area,
        complexity=first.complexity,
        baseline=_scores(first),
        latest=_scores(scored[-1]),
        exit=_scores(at_exit) if at_exit else None,
    )


def _area_order(score: AreaScore) -> int:
    return list(OutcomeArea).index(score.area)


def _scores(score: AreaScore) -> Scores:
    return Scores(float(score.self_score), float(score.staff_score))


def _mean(scores: Sequence[Scores]) -> Scores:
    return _rounded(fmean(s.self_score for s in scores), fmean(s.staff_score for s in scores))


def _rounded(self_score: float, staff_score: float) -> Scores:
    return Scores(round(self_score, PLACES), round(staff_score, PLACES))
