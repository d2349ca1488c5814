"""A test's view of the running platform: tokens, API calls, topic reads, collected spans."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import ConsumerRecord

from gmirs_contracts.validation import validate_event
from gmirs_runtime.eventing.envelope import from_record
from gmirs_runtime.testing.kafka import eventually, wait_for_records
from gmirs_stack.stack import LocalStack


@dataclass
class Platform:
    stack: LocalStack
    collector_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    handed_secrets: set[str] = field(default_factory=set)
    """Other credentials the platform handed to tests (survey link tokens): no log may hold one."""

    async def token(self, client_id: str) -> str:
        if client_id not in self.tokens:
            self.tokens[client_id] = await self.stack.token(client_id)
        return self.tokens[client_id]

    async def call(
        self, client_id: str, method: str, service: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {await self.token(client_id)}",
            **kwargs.pop("headers", {}),
        }
        async with httpx.AsyncClient(base_url=self.stack.url(service), timeout=15) as http:
            return await http.request(method, path, headers=headers, **kwargs)

    async def records(
        self,
        topic: str,
        predicate: Callable[[ConsumerRecord[bytes, bytes]], bool],
        count: int = 1,
        timeout: float = 30,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Records of `topic` matching `predicate`; each one is checked against its contract."""
        found = await wait_for_records(
            self.stack.broker.bootstrap, topic, predicate, count=count, timeout=timeout
        )
        for record in found:
            event = from_record(record.key, record.value, record.headers)
            validate_event(event.type, dict(event.data))
        return found

    async def spans(self, trace_id: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.collector_url) as http:
            response = await http.get("/_control/spans", params={"trace_id": trace_id})
            response.raise_for_status()
            spans: list[dict[str, Any]] = response.json()
            return spans

    async def wait_for_spans(
        self, trace_id: str, names: set[str], timeout: float = 20
    ) -> list[dict[str, Any]]:
        """Every span of the trace once all `names` (as "service: span name") have arrived."""
        seen: list[dict[str, Any]] = []

        async def arrived() -> bool:
            seen[:] = await self.spans(trace_id)
            return names <= {f"{s['service_name']}: {s['name']}" for s in seen}

        await eventually(arrived, timeout=timeout)
        return seen


async def probation_deliveries(
    platform: Platform, appointment_id: str, timeout: float = 30
) -> list[dict[str, Any]]:
    """The fake probation system's deliveries about one appointment, once there is at least one."""
    found: list[dict[str, Any]] = []

    async def delivered() -> bool:
        async with httpx.AsyncClient(base_url=platform.stack.url("probation")) as http:
            deliveries = (await http.get("/_control/deliveries")).json()
        found[:] = [
            d
            for d in deliveries
            if d["body"]["data"]["appointment"]["appointment_id"] == appointment_id
        ]
        return bool(found)

    await eventually(delivered, timeout=timeout, what=f"a delivery about {appointment_id}")
    return found


def event_type(record: ConsumerRecord[bytes, bytes]) -> str:
    value: bytes = dict(record.headers).get("ce_type", b"")
    return value.decode()


def data_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    return dict(from_record(record.key, record.value, record.headers).data)


async def caught_up(platform: Platform, group: str, topic: str) -> bool:
    """True when `group` has committed offsets up to the end of every partition of `topic`."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    bootstrap = platform.stack.broker.bootstrap
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await reader.start()
    await admin.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or [])
        ]
        ends = await reader.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return all(
            end == 0 or (tp in committed and committed[tp].offset >= end)
            for tp, end in ends.items()
        )
    finally:
        await reader.stop()
        await admin.close()


async def database_count(platform: Platform, sql: str) -> int:
    """An integer read straight from the platform's database (a count or a sum)."""
    return int(await database_scalar(platform, sql) or 0)


async def database_rows(platform: Platform, sql: str) -> list[tuple[Any, ...]]:
    """Every row of a query on the platform's database (JSON columns decoded)."""
    import asyncpg

    conn = await asyncpg.connect(platform.stack.database_url)
    try:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def database_scalar(platform: Platform, sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(platform.stack.database_url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()
