"""Group commit on real PostgreSQL: batches form under load, one bad item fails only itself."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text

from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.group_commit import GroupCommit

from .conftest import ServiceDb

INSERT = text("INSERT INTO svc.counters (id, count) VALUES (:id, :count)")


class Refused(Exception):
    """An outcome the write function hands back for one item (not a failure of the batch)."""


class Recorder:
    """A batch write that inserts a counter per item and emits an event for it."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def write(
        self, uow: UnitOfWork, items: Sequence[tuple[uuid.UUID, int]]
    ) -> list[int | Exception]:
        self.batches.append(len(items))
        outcomes: list[int | Exception] = []
        for aggregate_id, count in items:
            if count < 0:
                outcomes.append(Refused(str(count)))
                continue
            await uow.session.execute(INSERT, {"id": aggregate_id, "count": count})
            uow.emit(
                topic="counters",
                event_type="counted",
                aggregate_type="counter",
                aggregate_id=aggregate_id,
                data={"count": count},
            )
            outcomes.append(count * 10)
        await asyncio.sleep(0.01)  # a batch takes a while: the next one gathers meanwhile
        return outcomes


async def test_concurrent_submissions_share_transactions(service_db: ServiceDb) -> None:
    recorder = Recorder()
    commits = GroupCommit(service_db.uow, recorder.write, max_batch=20, writers=1)
    items = [(uuid.uuid4(), n) for n in range(100)]

    results = await asyncio.gather(*(commits.submit(item) for item in items))

    assert results == [n * 10 for n in range(100)]
    assert sum(recorder.batches) == 100
    assert max(recorder.batches) == 20  # bounded
    assert len(recorder.batches) <= 10  # one transaction per batch, not per item
    assert await service_db.scalar("SELECT count(*) FROM svc.counters") == 100
    assert await service_db.scalar("SELECT count(*) FROM svc.outbox") == 100


async def test_an_item_outcome_that_is_an_exception_is_raised_to_its_submitter_only(
    service_db: ServiceDb,
) -> None:
    recorder = Recorder()
    commits = GroupCommit(service_db.uow, recorder.write, max_batch=10, writers=1)
    items = [(uuid.uuid4(), n) for n in (1, -1, 2)]

    results = await asyncio.gather(*(commits.submit(i) for i in items), return_exceptions=True)

    assert results[0] == 10
    assert results[2] == 20
    assert isinstance(results[1], Refused)
    assert await service_db.scalar("SELECT count(*) FROM svc.counters") == 2


async def test_a_batch_that_fails_is_retried_item_by_item(service_db: ServiceDb) -> None:
    recorder = Recorder()
    commits = GroupCommit(service_db.uow, recorder.write, max_batch=10, writers=1)
    taken = uuid.uuid4()
    await commits.submit((taken, 1))
    items = [(uuid.uuid4(), 2), (taken, 3), (uuid.uuid4(), 4)]  # the second breaks the key

    results = await asyncio.gather(*(commits.submit(i) for i in items), return_exceptions=True)

    assert results[0] == 20
    assert results[2] == 40
    assert isinstance(results[1], Exception)
    assert not isinstance(results[1], Refused)
    assert await service_db.scalar("SELECT count(*) FROM svc.counters") == 3
    assert await service_db.scalar("SELECT count(*) FROM svc.outbox") == 3  # none half-written


async def test_an_unavailable_database_fails_the_batch_without_item_retries(
    service_db: ServiceDb,
) -> None:
    calls: list[int] = []

    async def unreachable(uow: UnitOfWork, items: Sequence[int]) -> list[int | Exception]:
        calls.append(len(items))
        raise ConnectionRefusedError("database down")

    commits: GroupCommit[int, int] = GroupCommit(service_db.uow, unreachable, writers=1)
    results = await asyncio.gather(*(commits.submit(n) for n in range(5)), return_exceptions=True)

    assert all(isinstance(r, ConnectionRefusedError) for r in results)
    assert sum(calls) == 5  # no second attempt item by item: it would fail the same way


async def test_each_event_continues_its_own_submitters_trace(service_db: ServiceDb) -> None:
    tracer = TracerProvider().get_tracer("test")

    async def write(uow: UnitOfWork, items: Sequence[otel_context.Context]) -> list[str]:
        for trace_context in items:
            uow.emit(
                topic="t",
                event_type="e",
                aggregate_type="a",
                aggregate_id=uuid.uuid4(),
                data={},
                trace_context=trace_context,
            )
        return [event.traceparent or "" for event in uow.emitted]

    commits: GroupCommit[otel_context.Context, str] = GroupCommit(service_db.uow, write)

    async def submit_in_a_span(name: str) -> tuple[str, str]:
        with tracer.start_as_current_span(name) as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            return trace_id, await commits.submit(otel_context.get_current())

    for trace_id, traceparent in await asyncio.gather(*(submit_in_a_span(n) for n in "abc")):
        assert traceparent.split("-")[1] == trace_id


async def test_close_waits_for_batches_in_flight(service_db: ServiceDb) -> None:
    recorder = Recorder()
    commits = GroupCommit(service_db.uow, recorder.write, max_batch=5, writers=2)
    pending = [asyncio.ensure_future(commits.submit((uuid.uuid4(), n))) for n in range(12)]
    await asyncio.sleep(0)  # submitted, not yet written

    await commits.aclose()

    assert all(task.done() for task in pending)
    assert await service_db.scalar("SELECT count(*) FROM svc.counters") == 12


def test_sizes_must_be_positive(service_db: ServiceDb) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommit(service_db.uow, Recorder().write, max_batch=0)


async def test_an_item_submitted_as_the_last_flush_ends_is_still_written(
    service_db: ServiceDb,
) -> None:
    """A request that runs between a flusher finishing and its removal from the set still gets
    a flusher (the window in which a busy event loop can schedule it)."""
    later: list[asyncio.Future[int]] = []
    trigger: list[object] = ["once"]

    class SubmitOnExit(UnitOfWork):
        async def __aexit__(self, *exc_info: object) -> None:
            await super().__aexit__(*exc_info)  # type: ignore[arg-type]
            if trigger:
                trigger.clear()
                later.append(asyncio.ensure_future(commits.submit((uuid.uuid4(), 2))))

    recorder = Recorder()
    commits = GroupCommit(
        lambda: SubmitOnExit(service_db.sessions, source="/gmirs/test"),
        recorder.write,
        writers=1,
    )

    assert await commits.submit((uuid.uuid4(), 1)) == 10
    assert await asyncio.wait_for(later[0], 5) == 20
