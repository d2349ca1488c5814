"""One case's story told by the contract examples, with fresh ids, and the fact tables' rows.

The examples (gmirs_contracts.examples) share their ids, so together they follow one referral
from receipt to closure. `story()` gives them fresh ids (every UUID in them, mapped the same
way across events), so each test has a case of its own on the shared topics and tables.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from gmirs_contracts.example_ids import CASE_ID
from gmirs_contracts.examples import example_data
from gmirs_contracts.registry import EVENTS
from gmirs_metrics.adapters.facts_rules import fold
from gmirs_metrics.adapters.facts_tables import FACT_TABLES
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.projections.project import contracts, facts_of
from gmirs_runtime.eventing.envelope import Event, to_headers

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CONSUMED = sorted(c.ce_type for c in contracts())


class Story:
    """Events of one fresh case; `ids` are every id they carry (to find their rows)."""

    def __init__(self) -> None:
        self._fresh: defaultdict[bytes, bytes] = defaultdict(lambda: str(uuid.uuid4()).encode())
        self.case_id = self.map(CASE_ID)
        self.event_ids: set[uuid.UUID] = set()

    def map(self, old: uuid.UUID) -> uuid.UUID:
        return uuid.UUID(self._fresh[str(old).encode()].decode())

    @property
    def ids(self) -> set[uuid.UUID]:
        return {uuid.UUID(v.decode()) for v in self._fresh.values()} | self.event_ids

    def event(self, ce_type: str, **changes: Any) -> Event:
        """The example of `ce_type` with this story's ids (and `changes` applied after)."""
        raw = _UUID.sub(lambda m: self._fresh[m.group(0)], orjson.dumps(example_data(ce_type)))
        data = orjson.loads(raw)
        data.update(changes)
        event = Event(type=ce_type, source="/gmirs/test", subject=self.case_id, data=data)
        self.event_ids.add(event.id)
        return event

    def events(self, ce_types: Iterable[str] = CONSUMED) -> list[Event]:
        return [self.event(t) for t in ce_types]


async def publish(bootstrap: str, events: Sequence[Event]) -> None:
    """Each event on its contract's topic, keyed by its subject."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for e in events:
            await producer.send(
                EVENTS[e.type].topic, key=e.key, value=orjson.dumps(e.data), headers=to_headers(e)
            )
        await producer.flush()
    finally:
        await producer.stop()


async def apply(engine: AsyncEngine, batches: Sequence[Sequence[Event]]) -> None:
    """Apply the events straight through the projection's code, one transaction per batch."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for batch in batches:
        parsed = [(EVENTS[e.type].model.parse_tolerant(e.data), e) for e in batch]
        async with MetricsUnitOfWork(sessions, source="/gmirs/test") as uow:
            await uow.facts.write(fold(facts_of(parsed)))
            await uow.commit()


Rows = dict[str, list[tuple[Any, ...]]]


async def fact_rows(conn: AsyncConnection, ids: set[uuid.UUID]) -> Rows:
    """Every fact table's rows that carry one of `ids`, sorted (comparable across databases)."""
    rows: Rows = {}
    for table in FACT_TABLES:
        uuids = [c.name for c in table.columns if c.pg_type == "uuid"]
        result = await conn.execute(text(f"SELECT * FROM {table.name}"))
        found = [
            tuple(str(value) for value in row.values())
            for row in result.mappings()
            if any(row[u] in ids for u in uuids)
        ]
        rows[table.name] = sorted(found)
    return rows
