"""Every projection through the real broker, and a rebuild while events keep arriving.

The contract examples (one case's story, with fresh ids per story) are published on their
topics, out of order and with duplicates; the service's rows must equal the rows the same
events give applied straight through the projection's code into a second database. A rebuild
from the start of the topics, run while more stories are published, must leave the same rows
and switch the live consumer to the new generation, with the API answering throughout.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gmirs_metrics.bootstrap import MIGRATIONS, build
from gmirs_metrics.projections.rebuild import rebuild
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.db import create_engine
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.migrations import upgrade
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService, own_database

from .stories import Rows, Story, apply, fact_rows, publish


@pytest.fixture
async def metrics(start_service) -> AsyncIterator[RunningService]:
    async with start_service(MetricsSettings, build, MIGRATIONS, projection_poll_seconds=0.2) as s:
        yield s


@pytest.fixture
async def reference(postgres_server) -> AsyncIterator[AsyncEngine]:
    """A second database the same events are applied to directly."""
    async with own_database(postgres_server, "ref") as url:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "metrics")
        engine = create_engine(url, schema="metrics", application_name="reference")
        yield engine
        await engine.dispose()


def _told_badly(events: list[Event]) -> list[Event]:
    """The story reversed, with its first events published again at the end."""
    backwards = events[::-1]
    return backwards + backwards[:5]


async def _rows(engine: AsyncEngine, stories: list[Story]) -> Rows:
    ids = set().union(*(s.ids for s in stories))
    async with engine.connect() as conn:
        return await fact_rows(conn, ids)


async def _same_rows(service: RunningService, reference: AsyncEngine, stories: list[Story]) -> None:
    expected = await _rows(reference, stories)
    assert all(expected.values()), "the reference has a row in every fact table"

    async def caught_up() -> bool:
        return await _rows(service.infra.engine, stories) == expected

    await eventually(caught_up, timeout=60, what="the service's rows equal the reference's")


async def test_every_projection_through_the_broker_out_of_order_and_twice(
    metrics, reference, kafka_broker
) -> None:
    story = Story()
    events = story.events()
    await publish(kafka_broker.bootstrap, _told_badly(events))
    await apply(reference, [events])
    await _same_rows(metrics, reference, [story])
    stats = metrics.infra.consumers[0].stats
    assert stats.dead_lettered == 0


async def test_a_rebuild_while_events_arrive_gives_the_live_rows(
    metrics, reference, kafka_broker
) -> None:
    before, during, after = Story(), Story(), Story()
    told = {story: story.events() for story in (before, during, after)}
    await publish(kafka_broker.bootstrap, _told_badly(told[before]))
    await apply(reference, [told[before]])
    await _same_rows(metrics, reference, [before])
    live = await _rows(metrics.infra.engine, [before])

    settings = metrics.infra.settings
    rebuilding = asyncio.create_task(rebuild(settings))
    during_events = _told_badly(told[during])
    for i in range(0, len(during_events), 6):
        await publish(kafka_broker.bootstrap, during_events[i : i + 6])
        async with metrics.as_client("commissioner", ["commissioner"]) as http:
            answer = await http.get("/kpis/referrals-by-borough", params={"month": "2026-02"})
            assert answer.status_code == 200
    report = await rebuilding
    await publish(kafka_broker.bootstrap, _told_badly(told[after]))
    await apply(reference, [told[during], told[after]])

    await _same_rows(metrics, reference, [before, during, after])
    assert await _rows(metrics.infra.engine, [before]) == live
    assert report.generation == 2
    assert report.applied >= len(told[before])
    projection = metrics.infra.consumers[0]

    async def switched() -> bool:
        return bool(getattr(projection, "kafka_group", None) == report.kafka_group)

    await eventually(switched, timeout=20)
    async with metrics.infra.engine.connect() as conn:
        generation = await conn.scalar(text("SELECT generation FROM projection_generations"))
        shadow_tables = await conn.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"),
            {"s": settings.rebuild_schema},
        )
    assert (generation, shadow_tables) == (2, 0)


async def test_the_rebuild_command_switches_the_running_service(metrics, kafka_broker) -> None:
    story = Story()
    await publish(kafka_broker.bootstrap, story.events())

    async def projected() -> bool:
        return all((await _rows(metrics.infra.engine, [story])).values())

    await eventually(projected, timeout=60)
    live = await _rows(metrics.infra.engine, [story])
    settings = metrics.infra.settings
    env = {
        **os.environ,
        "METRICS_ENVIRONMENT": "test",
        "METRICS_DATABASE_URL": settings.database_url.get_secret_value(),
        "METRICS_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "METRICS_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "METRICS_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "METRICS_KAFKA_FETCH_MAX_WAIT_MS": "20",
        "METRICS_HTTP_PORT": "1",
        "METRICS_AUTH_ISSUER": settings.auth_issuer,
        "METRICS_AUTH_JWKS_URL": settings.auth_jwks_url,
    }
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gmirs_metrics",
        "rebuild",
        "--timeout",
        "120",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(command.communicate(), 180)
    assert command.returncode == 0
    answer = json.loads(out.decode().strip().splitlines()[-1])
    assert (answer["rebuilt"], answer["generation"]) == (True, 2)
    assert re.fullmatch(r"metrics(-[a-z0-9-]+)?", answer["kafka_group"])  # asyncapi MetricsGroup
    projection = metrics.infra.consumers[0]

    async def switched() -> bool:
        return bool(getattr(projection, "kafka_group", None) == answer["kafka_group"])

    await eventually(switched, timeout=20)
    assert await _rows(metrics.infra.engine, [story]) == live
