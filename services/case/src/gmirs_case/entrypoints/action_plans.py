"""A case's action plan over HTTP: agree a version, list and read them, share and approve one.

The platform numbers the versions (`POST` answers 201 with the new version's Location). Goals
and activities are personal data: every read and write is audited, another hub's case is a
404, and the events carry only the version's outline. The lifecycle decides whether the case's
state allows each move (a 409 naming the state); the plan decides what its versions allow.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Path, Response, status

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.action_plans import (
    ActionPlan,
    Activity,
    Goal,
    InvalidPlanError,
    PlanConflictError,
    PlanNotFoundError,
)
from gmirs_case.domain.lifecycle import InvalidCommand, InvalidTransition, Lifecycle
from gmirs_case.domain.outcomes import OutcomeArea
from gmirs_case.entrypoints.action_plans_schemas import (
    ActionPlanChange,
    ActionPlanCreate,
    ActionPlanList,
    ActionPlanRead,
    ActionPlanSummary,
)
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.lifecycle import refused
from gmirs_case.entrypoints.lifecycle_schemas import Happened
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.action_plans import AgreePlan, When, agree_plan, approve_plan, share_plan
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_runtime.auth import Principal
from gmirs_runtime.problems import Problem, problem_responses, problem_type

router = case_router(prefix="/cases/{case_id}/action-plans", tags=["action plans"])
WRITE_ERRORS = problem_responses(404, 409, 413, 422)
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="The plan version (from 1).")]
T = TypeVar("T")
PlanMove = Callable[[CaseUnitOfWork, uuid.UUID, int, When], Awaitable[tuple[ActionPlan, Lifecycle]]]


async def _decided(change: Awaitable[T]) -> T:
    """Run a plan change; its refusals as problems (nothing is stored: no commit follows)."""
    try:
        return await change
    except CaseNotFoundError:
        raise no_such_case() from None
    except PlanNotFoundError as exc:
        raise Problem(404, detail=str(exc)) from None
    except InvalidTransition as exc:
        raise refused(exc) from None
    except PlanConflictError as exc:
        raise Problem(409, detail=str(exc), type=problem_type("action-plan-conflict")) from None
    except (InvalidPlanError, InvalidCommand) as exc:
        raise Problem(422, detail=str(exc)) from None


def _command(case_id: uuid.UUID, body: ActionPlanCreate) -> AgreePlan:
    goals = [Goal(OutcomeArea(g.area), g.description, g.target) for g in body.goals]
    activities = [
        Activity(a.description, OutcomeArea(a.area) if a.area else None) for a in body.activities
    ]
    return AgreePlan(
        case_id, goals, activities, body.number_of_sessions, body.agreed_by, body.occurred_at
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def agree_action_plan(
    case_id: uuid.UUID, body: ActionPlanCreate, principal: CaseWorker, uow: UoW, response: Response
) -> ActionPlanChange:
    """Agree the next version of the plan with the person (the first, or a revision)."""
    now, scope = datetime.now(UTC), hub_scope(principal)
    plan, lifecycle = await _decided(
        agree_plan(_command(case_id, body), uow=uow, hub_id=scope, now=now)
    )
    await audited(uow, principal, "case.action-plan-agreed", case_id)
    await uow.commit()
    response.headers["Location"] = f"/cases/{case_id}/action-plans/{plan.version}"
    return ActionPlanChange.of(plan, lifecycle)


@router.get("", responses=problem_responses(404))
async def list_action_plans(case_id: uuid.UUID, principal: CaseWorker, uow: UoW) -> ActionPlanList:
    """Every version in outline, oldest first (the last is the current plan)."""
    case = await visible_case(uow, principal, case_id)
    plans = await uow.action_plans.list(case.id)
    await audited(uow, principal, "case.action-plans-viewed", case_id)
    await uow.commit()
    return ActionPlanList(items=[ActionPlanSummary.model_validate(p) for p in plans])


@router.get("/{version}", responses=problem_responses(404, 422))
async def get_action_plan(
    case_id: uuid.UUID, version: Version, principal: CaseWorker, uow: UoW
) -> ActionPlanRead:
    """One version in full: its goals and activities."""
    case = await visible_case(uow, principal, case_id)
    plan = await uow.action_plans.get(case.id, version)
    if plan is None:
        raise Problem(404, detail=f"the case has no action plan version {version}")
    await audited(uow, principal, "case.action-plan-viewed", case_id)
    await uow.commit()
    return ActionPlanRead.model_validate(plan)


@router.post("/{version}/sharing", responses=WRITE_ERRORS)
async def share_action_plan(
    case_id: uuid.UUID, version: Version, body: Happened, principal: CaseWorker, uow: UoW
) -> ActionPlanChange:
    """Share the latest version with the probation practitioner."""
    return await _moved(case_id, version, body, principal, uow, share_plan, "shared")


@router.post("/{version}/approval", responses=WRITE_ERRORS)
async def record_action_plan_approval(
    case_id: uuid.UUID, version: Version, body: Happened, principal: CaseWorker, uow: UoW
) -> ActionPlanChange:
    """Record that the probation practitioner approved the shared (latest) version."""
    return await _moved(case_id, version, body, principal, uow, approve_plan, "approved")


async def _moved(
    case_id: uuid.UUID,
    version: int,
    body: Happened,
    principal: Principal,
    uow: CaseUnitOfWork,
    move: PlanMove,
    done: str,
) -> ActionPlanChange:
    at = When(body.occurred_at, datetime.now(UTC), hub_scope(principal))
    plan, lifecycle = await _decided(move(uow, case_id, version, at))
    await audited(uow, principal, f"case.action-plan-{done}", case_id)
    await uow.commit()
    return ActionPlanChange.of(plan, lifecycle)
