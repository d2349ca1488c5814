"""The case's lifecycle over HTTP: one route per command, each a resource the hub creates.

Every command locks the case, is decided by the lifecycle's transition table, and publishes
its event through the outbox in the same transaction. A command the case's state does not
allow is a 409 naming the state and the command. Only the lead provider reallocates a case.
The exit survey is offered by asking for its link (`POST /cases/{id}/exit-survey`).
The action plan's commands have routes of their own (entrypoints/action_plans.py), which store
each version's content with the move.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends

from gmirs_case.domain import commands as c
from gmirs_case.domain.achievement import InvalidAchievementError, OutcomeAchievement
from gmirs_case.domain.closure import ClosureReason
from gmirs_case.domain.lifecycle import InvalidCommand, InvalidTransition, Lifecycle
from gmirs_case.domain.model import CaseError
from gmirs_case.entrypoints.case_problems import audited, no_such_case
from gmirs_case.entrypoints.deps import LEAD_PROVIDER, CaseWorker, KnownHubs, UoW, hub_scope
from gmirs_case.entrypoints.lifecycle_schemas import (
    ClosureCreate,
    Happened,
    LifecycleRead,
    Reallocation,
    SessionsCompletion,
)
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.lifecycle import reallocate, run_command
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_runtime.auth import Principal, require_roles
from gmirs_runtime.problems import Problem, problem_responses, problem_type

router = case_router(prefix="/cases/{case_id}", tags=["case lifecycle"])
ERRORS = problem_responses(404, 409, 413, 422)
LeadProvider = Annotated[Principal, Depends(require_roles(LEAD_PROVIDER))]


def refused(exc: InvalidTransition) -> Problem:
    """The 409 for a command the case's state does not allow, naming both."""
    return Problem(
        409,
        title="Not allowed in the case's current state",
        detail=str(exc),
        type=problem_type("invalid-transition"),
        state=exc.state.value,
        command=exc.kind.value,
    )


async def _run(
    case_id: uuid.UUID, principal: Principal, uow: UoW, command: c.Command
) -> LifecycleRead:
    try:
        lifecycle = await run_command(
            uow, case_id, command, hub_id=hub_scope(principal), now=datetime.now(UTC)
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except InvalidTransition as exc:
        raise refused(exc) from None
    except InvalidCommand as exc:
        raise Problem(422, detail=str(exc)) from None
    return await _recorded(uow, principal, case_id, f"case.{command.kind.value}", lifecycle)


async def _recorded(
    uow: UoW, principal: Principal, case_id: uuid.UUID, action: str, lifecycle: Lifecycle
) -> LifecycleRead:
    await audited(uow, principal, action, case_id)
    await uow.commit()
    return LifecycleRead.of(lifecycle)


def _simple(path: str, make: Callable[[datetime], c.Command], summary: str) -> None:
    """A command that says only when it happened."""

    async def route(
        case_id: uuid.UUID, body: Happened, principal: CaseWorker, uow: UoW
    ) -> LifecycleRead:
        return await _run(case_id, principal, uow, make(body.occurred_at))

    router.post(path, responses=ERRORS, summary=summary, name=path.strip("/"))(route)


_simple("/first-contact", c.RecordFirstContact, "Record the first contact with the person")
_simple("/needs-assessment", c.AssessNeeds, "Record that needs were assessed")


@router.post("/sessions-completion", responses=ERRORS)
async def complete_sessions(
    case_id: uuid.UUID, body: SessionsCompletion, principal: CaseWorker, uow: UoW
) -> LifecycleRead:
    """Record that the sessions are completed, and how far the outcomes were achieved (DS5)."""
    try:
        outcomes = OutcomeAchievement(**body.outcomes.model_dump()) if body.outcomes else None
    except InvalidAchievementError as exc:
        raise Problem(422, detail=str(exc)) from None
    return await _run(case_id, principal, uow, c.CompleteSessions(body.occurred_at, outcomes))


@router.post("/closure", responses=ERRORS)
async def close_case(
    case_id: uuid.UUID, body: ClosureCreate, principal: CaseWorker, uow: UoW
) -> LifecycleRead:
    """Close the case: completed (after the sessions), or early with a reason."""
    command = c.CloseCase(ClosureReason(body.reason), body.occurred_at)
    return await _run(case_id, principal, uow, command)


@router.post("/reallocation", responses=ERRORS)
async def reallocate_case(
    case_id: uuid.UUID, body: Reallocation, principal: LeadProvider, uow: UoW, hubs: KnownHubs
) -> LifecycleRead:
    """Move an open case to another hub (lead provider only); that hub then owns it.

    Only to a hub this service is configured with (`CASE_HUB_IDS`): any other is a 422.
    """
    if body.hub_id not in hubs:
        raise Problem(422, detail=f"{body.hub_id!r} is not a hub of this service")
    try:
        _, lifecycle = await reallocate(uow, case_id, body.hub_id, now=datetime.now(UTC))
    except CaseNotFoundError:
        raise no_such_case() from None
    except InvalidTransition as exc:
        raise refused(exc) from None
    except CaseError as exc:
        raise Problem(409, detail=str(exc)) from None
    return await _recorded(uow, principal, case_id, "case.reallocate", lifecycle)
