"""The operators' HTTP API over quarantined and pending R&M messages (the CLI offers the same).

Lists carry reasons, never content; viewing, replaying and discarding take a reason, and every
action is written to the audit log (handlers/quarantine_ops.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends
from pydantic import BaseModel, Field

from gmirs_referral_intake.adapters.quarantine import QuarantineSummary
from gmirs_referral_intake.domain.rm_errors import TransientFailureError
from gmirs_referral_intake.entrypoints.rm_wiring import RmReceivingDep
from gmirs_referral_intake.handlers.quarantine_ops import (
    NotHeldError,
    ReplayUnsupportedError,
    UnknownQuarantinedMessageError,
)
from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.eventing.api import OPERATOR_ROLE, Reason
from gmirs_runtime.paging import page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = authenticated_router(prefix="/operator", tags=["operations"])
Operator = Annotated[Principal, Depends(require_roles(OPERATOR_ROLE))]
Limit = Annotated[int, page_limit(500)]


class QuarantinedItem(BaseModel):
    id: uuid.UUID
    source: Literal["sqs", "sns-http", "bare", "poller", "pilot-csv"]
    reason: str = Field(description="Why it cannot be processed (names fields, never values).")
    status: Literal["held", "replayed", "discarded"]
    first_seen_at: datetime
    last_seen_at: datetime
    attempts: int
    resolved_at: datetime | None
    resolved_by: str | None


class QuarantinePage(BaseModel):
    items: list[QuarantinedItem]


class QuarantinedDetail(QuarantinedItem):
    raw: str = Field(description="The message as received; may hold personal data.")


class ReplayOutcome(BaseModel):
    replayed: bool
    outcome: str | None = Field(description="What processing did (published or duplicate).")
    reason: str | None = Field(description="Why the message is still held, if it is.")
    message: QuarantinedItem


class PendingItem(BaseModel):
    id: uuid.UUID
    key: str
    source: str
    reason: str
    attempts: int
    first_seen_at: datetime
    last_attempt_at: datetime
    next_attempt_at: datetime


class PendingPage(BaseModel):
    items: list[PendingItem]


def _item(summary: QuarantineSummary) -> QuarantinedItem:
    return QuarantinedItem.model_validate(asdict(summary))


@router.get("/quarantine")
async def list_quarantined(
    principal: Operator,
    rm: RmReceivingDep,
    status: Literal["held", "replayed", "discarded", "all"] = "held",
    limit: Limit = 100,
) -> QuarantinePage:
    """Quarantined messages, most recently seen first, with reasons (no content)."""
    items = await rm.operations.list_messages(
        actor=principal.client_id, status=None if status == "all" else status, limit=limit
    )
    return QuarantinePage(items=[_item(item) for item in items])


@router.post("/quarantine/{message_id}/view", responses=problem_responses(404, 422))
async def view_quarantined(
    message_id: uuid.UUID, body: Reason, principal: Operator, rm: RmReceivingDep
) -> QuarantinedDetail:
    """One quarantined message with its content; the access is audited with the reason given."""
    with _as_problems():
        message = await rm.operations.view(
            message_id, actor=principal.client_id, reason=body.reason
        )
    return QuarantinedDetail.model_validate({**asdict(message.summary), "raw": message.raw})


@router.post("/quarantine/{message_id}/replay", responses=problem_responses(404, 409, 422, 503))
async def replay_quarantined(
    message_id: uuid.UUID, body: Reason, principal: Operator, rm: RmReceivingDep
) -> ReplayOutcome:
    """Process a held message again; it leaves the quarantine only if that succeeds."""
    with _as_problems():
        result = await rm.operations.replay(
            message_id, actor=principal.client_id, reason=body.reason
        )
    return ReplayOutcome(
        replayed=result.replayed,
        outcome=result.outcome,
        reason=result.reason,
        message=_item(result.message),
    )


@router.post("/quarantine/{message_id}/discard", responses=problem_responses(404, 409, 422))
async def discard_quarantined(
    message_id: uuid.UUID, body: Reason, principal: Operator, rm: RmReceivingDep
) -> QuarantinedItem:
    """Give a held message up for good; it stays on record as discarded."""
    with _as_problems():
        summary = await rm.operations.discard(
            message_id, actor=principal.client_id, reason=body.reason
        )
    return _item(summary)


@router.get("/pending")
async def list_pending(principal: Operator, rm: RmReceivingDep, limit: Limit = 100) -> PendingPage:
    """Messages waiting to be retried after a transient failure, soonest first (no content)."""
    items = await rm.operations.list_pending(actor=principal.client_id, limit=limit)
    return PendingPage(items=[PendingItem.model_validate(asdict(item)) for item in items])


@contextlib.contextmanager
def _as_problems() -> Iterator[None]:
    """The failures of the operators' actions, as the problem documents the routes declare."""
    try:
        yield
    except UnknownQuarantinedMessageError:
        raise Problem(404, detail="No such quarantined message.") from None
    except NotHeldError as exc:
        raise Problem(409, detail=f"The message is already {exc}.") from None
    except ReplayUnsupportedError as exc:
        raise Problem(
            409, detail=f"Messages from {exc} cannot be replayed; discard it and re-run the source."
        ) from None
    except TransientFailureError:
        raise Problem(
            503,
            detail="Refer and Monitor is unavailable; try again later.",
            headers={"Retry-After": "30"},
        ) from None
