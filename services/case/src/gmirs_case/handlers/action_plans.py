"""A hub agrees action plan versions with the person, shares them and records their approval.

Each use case locks the case, lets `domain.action_plans` decide what the plan's versions allow
and the lifecycle decide what the case's state allows (through its commands, which carry the
version's outline to the event), then stores both in the one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain import action_plans as plans
from gmirs_case.domain.action_plans import ActionPlan, Activity, Goal
from gmirs_case.domain.commands import AgreeActionPlan, RecordActionPlanApproval, ShareActionPlan
from gmirs_case.domain.lifecycle import Lifecycle
from gmirs_case.handlers.lifecycle import apply_command
from gmirs_case.handlers.locking import locked_case


class _Decide(Protocol):
    def __call__(
        self, plans: Sequence[ActionPlan], version: int, *, occurred_at: datetime, now: datetime
    ) -> ActionPlan: ...


@dataclass(frozen=True, slots=True)
class When:
    """When a sharing or approval happened, when it is recorded, and the caller's hubs."""

    occurred_at: datetime
    now: datetime
    hub_id: str | None


@dataclass(frozen=True, slots=True)
class AgreePlan:
    case_id: uuid.UUID
    goals: Sequence[Goal]
    activities: Sequence[Activity]
    number_of_sessions: int
    agreed_by: str
    agreed_at: datetime


async def agree_plan(
    command: AgreePlan, *, uow: CaseUnitOfWork, hub_id: str | None, now: datetime
) -> tuple[ActionPlan, Lifecycle]:
    """Store the case's next plan version and move the case (the version is the server's)."""
    case = await locked_case(uow, command.case_id, hub_id)
    plan = plans.agree(
        await uow.action_plans.list(case.id),
        goals=command.goals,
        activities=command.activities,
        number_of_sessions=command.number_of_sessions,
        agreed_by=command.agreed_by,
        agreed_at=command.agreed_at,
        now=now,
    )
    agreed = AgreeActionPlan(
        plan.version, plan.number_of_sessions, plan.agreed_at, outline=plan.outline()
    )
    lifecycle = await apply_command(uow, case, agreed, now=now)
    await uow.action_plans.add(case.id, plan)
    return plan, lifecycle


async def share_plan(
    uow: CaseUnitOfWork, case_id: uuid.UUID, version: int, at: When
) -> tuple[ActionPlan, Lifecycle]:
    """The latest version shared with the probation practitioner."""
    return await _progress(uow, case_id, version, at, plans.share, ShareActionPlan)


async def approve_plan(
    uow: CaseUnitOfWork, case_id: uuid.UUID, version: int, at: When
) -> tuple[ActionPlan, Lifecycle]:
    """The probation practitioner approved the shared (latest) version."""
    return await _progress(uow, case_id, version, at, plans.approve, RecordActionPlanApproval)


async def _progress(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    version: int,
    at: When,
    decide: _Decide,
    command: type[ShareActionPlan | RecordActionPlanApproval],
) -> tuple[ActionPlan, Lifecycle]:
    case = await locked_case(uow, case_id, at.hub_id)
    existing = await uow.action_plans.list(case.id)
    plan = decide(existing, version, occurred_at=at.occurred_at, now=at.now)
    moved = command(version, at.occurred_at, outline=plan.outline())
    lifecycle = await apply_command(uow, case, moved, now=at.now)
    await uow.action_plans.record_progress(plan)
    return plan, lifecycle
