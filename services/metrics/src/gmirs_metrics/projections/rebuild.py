"""Rebuild the read models from the start of the topics beside the live ones, then switch.

1. Empty copies of the fact tables and the inbox are made in the rebuild schema.
2. A batch consumer under a new Kafka group (the next generation) reads every topic from the
   earliest offset into the copies (its search_path puts the rebuild schema first), while the
   service keeps consuming into the live tables and answering from them.
3. Once it has caught up (no lag on any partition), it stops after its batch, and one
   transaction drops the live tables, moves the copies in and records the new generation.
4. The service's live consumer sees the new generation and rejoins under its group, from
   where the rebuild stopped (see `projections.live` for why nothing is lost or applied twice).

One rebuild at a time (an advisory lock); a rebuild that fails or times out drops its copies
and leaves the live tables as they were.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import text

from gmirs_metrics.adapters.facts_generations import (
    Generation,
    current_generation,
    record_generation,
)
from gmirs_metrics.adapters.facts_shadow import drop_shadow, prepare_shadow, swap_in
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.projections.live import projection_consumer
from gmirs_metrics.projections.project import GROUP
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure
from gmirs_runtime.eventing.batch_consumer import BatchConsumer
from gmirs_runtime.leadership import sole_runner


class RebuildError(RuntimeError):
    """The rebuild could not finish; the live tables are unchanged."""


@dataclass(frozen=True, slots=True)
class RebuildReport:
    generation: int
    kafka_group: str
    applied: int
    duplicates: int
    dead_lettered: int
    seconds: float


async def rebuild(settings: MetricsSettings) -> RebuildReport:
    """Build the next generation beside the live tables and switch to it (see the module)."""
    live = build_infrastructure(settings, unit_of_work=MetricsUnitOfWork)
    shadow = settings.rebuild_schema
    builder_settings = settings.model_copy(
        update={"database_schema": f"{shadow}, {settings.database_schema}"}
    )
    builder = build_infrastructure(builder_settings, unit_of_work=MetricsUnitOfWork)
    try:
        async with sole_runner(live.engine, f"{GROUP}-rebuild") as won:
            if not won:
                raise RebuildError("another rebuild is running")
            return await _rebuild(settings, live, builder)
    finally:
        for infra in (builder, live):
            await infra.engine.dispose()
            await infra.token_validator.aclose()


async def _rebuild(
    settings: MetricsSettings,
    live: Infrastructure[MetricsUnitOfWork],
    builder: Infrastructure[MetricsUnitOfWork],
) -> RebuildReport:
    schema, shadow = settings.database_schema, settings.rebuild_schema
    started = time.monotonic()
    async with live.engine.begin() as conn:
        await prepare_shadow(conn, live=schema, shadow=shadow)
        generation = (await current_generation(conn, GROUP)).next(uuid.uuid4().hex[:8])
    try:
        consumer = await _build(settings, builder, generation)
        async with live.engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '60s'"))
            await swap_in(conn, live=schema, shadow=shadow)
            await record_generation(conn, GROUP, generation)
    except BaseException:
        async with live.engine.begin() as conn:
            await drop_shadow(conn, shadow=shadow)
        raise
    stats = consumer.stats
    return RebuildReport(
        generation=generation.number,
        kafka_group=generation.kafka_group,
        applied=stats.applied,
        duplicates=stats.duplicates,
        dead_lettered=stats.dead_lettered,
        seconds=time.monotonic() - started,
    )


async def _build(
    settings: MetricsSettings,
    builder: Infrastructure[MetricsUnitOfWork],
    generation: Generation,
) -> BatchConsumer[MetricsUnitOfWork]:
    """Consume from the start into the shadow tables until caught up; stopped after its batch."""
    consumer = projection_consumer(builder, settings, generation.kafka_group)
    await builder.producer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        async with asyncio.timeout(settings.rebuild_timeout_seconds):
            await _caught_up(consumer, task)
    except TimeoutError:
        raise RebuildError("the rebuild did not catch up with the topics in time") from None
    finally:
        stop.set()
        await task
        await builder.producer.stop()
    return consumer


async def _caught_up(consumer: BatchConsumer[MetricsUnitOfWork], task: asyncio.Task[None]) -> None:
    while True:
        if task.done():
            task.result()
            raise RebuildError("the rebuild's consumer stopped")
        if await consumer.lag() == 0:
            return
        await asyncio.sleep(0.2)
