"""The operators' HTTP API over dead letters and parked outbox rows (the CLI offers the same)."""

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from pydantic import BaseModel, Field

from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.eventing.operations import DeadLetterOperations, UnknownDeadLetterError
from gmirs_runtime.eventing.parked import ParkedOutbox, UnknownParkedRowError
from gmirs_runtime.paging import KafkaOffset, KafkaPartition
from gmirs_runtime.problems import Problem, problem_responses


class Reason(BaseModel):
    """Why the operator needs this: recorded in the audit log."""

    reason: str = Field(min_length=3, max_length=500)


class DeadLetterPage(BaseModel):
    items: list[dict[str, Any]]


class DeadLetterDetail(BaseModel):
    summary: dict[str, Any]
    key: str | None
    payload: str | None = Field(description="The record value as text; may hold personal data.")


class ReplayResult(BaseModel):
    replayed_to: str


class ParkedRow(BaseModel):
    """An outbox row the relay can never publish as it is (no payload shown)."""

    id: int
    event_id: uuid.UUID
    aggregate_type: str
    aggregate_id: uuid.UUID
    event_type: str
    topic: str
    created_at: datetime
    parked_at: datetime
    reason: str = Field(description="Why the producer refused it (sizes and error kinds only).")
    held_behind: int = Field(description="Later events of the same aggregate waiting behind it.")


class ParkedPage(BaseModel):
    items: list[ParkedRow]


class ParkedAction(BaseModel):
    id: int
    action: str


RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The outbox row id (bigint).")]


OPERATOR_ROLE = "operator"
Operator = Annotated[Principal, Depends(require_roles(OPERATOR_ROLE))]


def dead_letter_router() -> APIRouter:
    """Routes under /operator/dead-letters; the app must set `state.dead_letters`."""
    router = authenticated_router(prefix="/operator/dead-letters", tags=["operations"])

    def ops(request: Request) -> DeadLetterOperations:
        operations: DeadLetterOperations = request.app.state.dead_letters
        return operations

    @router.get("")
    async def list_dead_letters(principal: Operator, request: Request) -> DeadLetterPage:
        """Every dead letter of this service's consumer groups, with reasons (no payloads)."""
        return DeadLetterPage(items=await ops(request).list())

    @router.post("/{topic}/{partition}/{offset}/view", responses=problem_responses(404, 422))
    async def view_dead_letter(
        topic: str,
        partition: KafkaPartition,
        offset: KafkaOffset,
        body: Reason,
        principal: Operator,
        request: Request,
    ) -> DeadLetterDetail:
        """One dead letter with its payload; the access is audited with the reason given."""
        try:
            letter, summary = await ops(request).show(
                topic, partition, offset, actor=principal.client_id, reason=body.reason
            )
        except UnknownDeadLetterError:
            raise Problem(404, detail="No such dead letter.") from None
        return DeadLetterDetail(
            summary=summary,
            key=letter.key.decode(errors="replace") if letter.key else None,
            payload=letter.value.decode(errors="replace") if letter.value else None,
        )

    @router.post("/{topic}/{partition}/{offset}/replay", responses=problem_responses(404, 422))
    async def replay_dead_letter(
        topic: str,
        partition: KafkaPartition,
        offset: KafkaOffset,
        body: Annotated[Reason, Body()],
        principal: Operator,
        request: Request,
    ) -> ReplayResult:
        """Send a dead letter back to its consumer group (applied at most once, thanks to the inbox)."""
        try:
            target = await ops(request).replay(
                topic, partition, offset, actor=principal.client_id, reason=body.reason
            )
        except UnknownDeadLetterError:
            raise Problem(404, detail="No such dead letter.") from None
        return ReplayResult(replayed_to=target)

    return router


def parked_outbox_router() -> APIRouter:
    """Routes under /operator/outbox; the app must set `state.parked_outbox`."""
    router = authenticated_router(prefix="/operator/outbox", tags=["operations"])

    def parked(request: Request) -> ParkedOutbox:
        operations: ParkedOutbox = request.app.state.parked_outbox
        return operations

    @router.get("")
    async def list_parked(principal: Operator, request: Request) -> ParkedPage:
        """Outbox rows the relay parked, with reasons; later events of their aggregates wait."""
        rows = await parked(request).list()
        return ParkedPage(items=[ParkedRow.model_validate(row) for row in rows])

    @router.post("/{row_id}/retry", responses=problem_responses(404, 422))
    async def retry_parked(
        row_id: RowId, body: Reason, principal: Operator, request: Request
    ) -> ParkedAction:
        """Let the relay try the row again (after the cause was fixed); audited."""
        with _unknown_row():
            await parked(request).retry(row_id, actor=principal.client_id, reason=body.reason)
        return ParkedAction(id=row_id, action="retried")

    @router.post("/{row_id}/discard", responses=problem_responses(404, 422))
    async def discard_parked(
        row_id: RowId, body: Reason, principal: Operator, request: Request
    ) -> ParkedAction:
        """Delete the row for good (its event is never published) so held events flow; audited."""
        with _unknown_row():
            await parked(request).discard(row_id, actor=principal.client_id, reason=body.reason)
        return ParkedAction(id=row_id, action="discarded")

    return router


@contextlib.contextmanager
def _unknown_row() -> Iterator[None]:
    try:
        yield
    except UnknownParkedRowError:
        raise Problem(404, detail="No such parked outbox row.") from None
