"""Seed the KPI fact tables directly (migration 0003's tables), for hand-worked KPI cases.

The projections that fill these tables from events are proved separately; these tests fix the
facts and check the arithmetic. Times are written as Europe/London wall-clock times
(`london("2026-12-24 16:00")`), the way a person works a case out on paper.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gmirs_metrics.adapters.kpi_inputs import settle_kpi_inputs
from gmirs_runtime.working_days import LONDON


def london(wall_clock: str) -> datetime:
    """'2026-12-24 16:00' in London (GMT or BST, as that day had it) as an aware moment."""
    return datetime.fromisoformat(wall_clock).replace(tzinfo=LONDON)


def _maybe(wall_clock: str | None) -> datetime | None:
    return None if wall_clock is None else london(wall_clock)


class Facts:
    """Inserts one fact row per call, each in its own committed transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        async with self._sessions() as session:
            await session.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
            await session.commit()

    async def referral(self, hub: str | None, sent: str, received: str | None = None) -> UUID:
        referral_id = uuid.uuid4()
        await self._insert(
            "referral_facts",
            {
                "referral_id": referral_id,
                "source": "refer-and-monitor",
                "hub_id": hub,
                "sent_at": london(sent),
                "received_at": london(received or sent),
                "from_rm": True,
                "service_categories": ["emotional-wellbeing"],
            },
        )
        return referral_id

    async def case(self, hub: str, sent: str, **milestones: Any) -> UUID:
        """A case; milestones by column name, times as London wall-clock strings, other
        columns (closure_reason, rm_withdrawal_code, outcomes_achieved, ...) as values."""
        case_id = uuid.uuid4()
        row: dict[str, Any] = {
            "case_id": case_id,
            "referral_id": uuid.uuid4(),
            "hub_id": hub,
            "referral_sent_at": london(sent),
        }
        for name, value in milestones.items():
            row[name] = london(value) if name.endswith("_at") else value
        await self._insert("case_facts", row)
        await self._settle(case_id)
        return case_id

    async def contact(
        self, case_id: UUID, hub: str, occurred: str, recorded: str, *, successful: bool = True
    ) -> None:
        await self._insert(
            "contact_facts",
            {
                "contact_id": uuid.uuid4(),
                "case_id": case_id,
                "hub_id": hub,
                "method": "phone",
                "outcome": "spoke" if successful else "no-answer",
                "successful": successful,
                "occurred_at": london(occurred),
                "recorded_at": london(recorded),
            },
        )

    async def appointment(
        self,
        case_id: UUID,
        hub: str,
        ends: str,
        *,
        attendance_recorded: str | None = None,
        cancelled: str | None = None,
    ) -> None:
        await self._insert(
            "appointment_facts",
            {
                "appointment_id": uuid.uuid4(),
                "case_id": case_id,
                "hub_id": hub,
                "kind": "session",
                "starts_at": london(ends),
                "ends_at": london(ends),
                "cancelled_at": _maybe(cancelled),
                "attendance_recorded_at": _maybe(attendance_recorded),
            },
        )

    async def mitigation(self, case_id: UUID, hub: str, measure: str, occurred: str) -> None:
        await self._insert(
            "mitigation_facts",
            {
                "mitigation_id": uuid.uuid4(),
                "case_id": case_id,
                "hub_id": hub,
                "measure": measure,
                "reason": "pop-unwell",
                "occurred_at": london(occurred),
                "recorded_at": london(occurred),
            },
        )

    async def evidence_request(
        self, hub: str | None, requested: str, due: str, answered: str | None = None
    ) -> None:
        answered_at, due_at = _maybe(answered), london(due)
        await self._insert(
            "evidence_request_facts",
            {
                "request_id": uuid.uuid4(),
                "hub_id": hub,
                "requested_at": london(requested),
                "counted_from": london(requested).date(),
                "due_at": due_at,
                "answered_at": answered_at,
                "on_time": None if answered_at is None else answered_at < due_at,
            },
        )

    async def report(
        self,
        hub: str,
        due: str,
        *,
        seconds_taken: int | None = None,
        escalated: bool = False,
        breach_cause: str | None = None,
    ) -> None:
        due_at = london(due)
        await self._insert(
            "report_facts",
            {
                "report_id": uuid.uuid4(),
                "case_id": uuid.uuid4(),
                "hub_id": hub,
                "origin": "hub",
                "appointment_ends_at": due_at,
                "due_at": due_at,
                "seconds_taken": seconds_taken,
                "acknowledged_at": None if seconds_taken is None else due_at,
                "within_deadline": None if seconds_taken is None else seconds_taken <= 86_400,
                "escalated_at": due_at if escalated else None,
                "escalation_cause": "failing" if escalated else None,
                "breached_at": due_at if breach_cause else None,
                "breach_cause": breach_cause,
            },
        )

    async def assessment(
        self,
        case_id: UUID,
        hub: str,
        stage: str,
        occurred: str,
        scores: dict[str, tuple[int, int]],
        *,
        corrects: UUID | None = None,
    ) -> UUID:
        """An outcome assessment: scores are {area: (self_score, staff_score)}."""
        assessment_id = uuid.uuid4()
        await self._insert(
            "outcome_assessment_facts",
            {
                "assessment_id": assessment_id,
                "case_id": case_id,
                "hub_id": hub,
                "stage": stage,
                "corrects": corrects,
                "occurred_at": london(occurred),
                "recorded_at": london(occurred),
            },
        )
        for area, (own, staff) in scores.items():
            await self._insert(
                "outcome_score_facts",
                {
                    "assessment_id": assessment_id,
                    "area": area,
                    "self_score": own,
                    "staff_score": staff,
                },
            )
        await self._settle(case_id)
        return assessment_id

    async def _settle(self, case_id: UUID) -> None:
        """What the projection's writer settles after each batch (adapters.kpi_inputs)."""
        async with self._sessions() as session:
            await settle_kpi_inputs(session, cases=[case_id], assessed=[case_id])
            await session.commit()
