"""The distance-travelled tool on a case: record an assessment, read the distance travelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import status

from gmirs_case.domain.distance import distance_travelled
from gmirs_case.domain.outcomes import (
    AreaScore,
    AssessmentConflictError,
    AssessmentStage,
    Complexity,
    InvalidAssessmentError,
    OutcomeArea,
)
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.outcomes_schemas import (
    AssessmentCreate,
    AssessmentRead,
    DistanceTravelledRead,
)
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_case.handlers.outcomes import RecordAssessment, record_assessment
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["distance travelled"])


def _command(case_id: uuid.UUID, body: AssessmentCreate) -> RecordAssessment:
    areas = [
        AreaScore(
            area=OutcomeArea(a.area),
            complexity=Complexity(a.complexity) if a.complexity else None,
            self_score=a.self_score,
            staff_score=a.staff_score,
        )
        for a in body.areas
    ]
    return RecordAssessment(
        case_id, AssessmentStage(body.stage), areas, body.occurred_at, body.corrects
    )


@router.post(
    "/{case_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 413, 422),
)
async def create_assessment(
    case_id: uuid.UUID, body: AssessmentCreate, principal: CaseWorker, uow: UoW
) -> AssessmentRead:
    """Record the tool at baseline, a review or exit (or correct one with `corrects`)."""
    command = _command(case_id, body)
    now = datetime.now(UTC)
    try:
        assessment = await record_assessment(command, uow=uow, hub_id=hub_scope(principal), now=now)
    except CaseNotFoundError:
        raise no_such_case() from None
    except AssessmentConflictError as exc:
        raise Problem(409, detail=str(exc)) from None
    except InvalidAssessmentError as exc:
        raise Problem(422, detail=str(exc)) from None
    await audited(uow, principal, "case.assessment-recorded", case_id)
    await uow.commit()
    return AssessmentRead.model_validate(assessment)


@router.get("/{case_id}/distance-travelled", responses=problem_responses(404))
async def get_distance_travelled(
    case_id: uuid.UUID, principal: CaseWorker, uow: UoW
) -> DistanceTravelledRead:
    """Per outcome area and overall: baseline, latest and exit scores and the change."""
    case = await visible_case(uow, principal, case_id)
    assessments = await uow.outcome_assessments.list(case.id)
    await audited(uow, principal, "case.distance-travelled-viewed", case_id)
    await uow.commit()
    return DistanceTravelledRead.model_validate(distance_travelled(assessments))
