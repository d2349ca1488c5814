"""A hub records the distance-travelled tool: baseline, reviews, exit, and corrections."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gmirs_case.adapters import records
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.outcomes import AreaScore, AssessmentStage, OutcomeAssessment, assess
from gmirs_case.handlers.contacts import AGGREGATE, of_case
from gmirs_case.handlers.locking import locked_case
from gmirs_contracts import case_needs as contract
from gmirs_contracts.registry import EVENTS

ASSESSMENT_RECORDED = EVENTS["gmirs.case.outcome-assessment-recorded.v1"]


@dataclass(frozen=True, slots=True)
class RecordAssessment:
    case_id: uuid.UUID
    stage: AssessmentStage
    areas: Sequence[AreaScore]
    occurred_at: datetime
    corrects: uuid.UUID | None


async def record_assessment(
    command: RecordAssessment, *, uow: CaseUnitOfWork, hub_id: str | None, now: datetime
) -> OutcomeAssessment:
    case = await locked_case(uow, command.case_id, hub_id)
    existing = await uow.outcome_assessments.list(case.id)
    assessment = assess(
        existing,
        stage=command.stage,
        areas=command.areas,
        occurred_at=command.occurred_at,
        now=now,
        corrects=command.corrects,
    )
    await uow.outcome_assessments.add(case.id, assessment)
    values = records.record_of(assessment, rename={"id": "assessment_id"})
    values["areas"] = [records.record_of(s) for s in assessment.areas]
    event = records.contract(contract.OutcomeAssessmentRecorded, of_case(case) | values)
    uow.publish(ASSESSMENT_RECORDED, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    return assessment
