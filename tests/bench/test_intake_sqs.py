"""The SQS path (message received -> outbox committed -> message deleted) against moto's own rate.

moto's SQS scans the whole queue on every call and slows as the queue deepens, so both sides use
the same shallow depth and the figure is the ratio. Intake runs as a real process with its
R&M calls answered by the simulator (another process); the floor is a bare aiobotocore loop that
receives and deletes the same number of messages of the same size.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiobotocore.session import get_session  # type: ignore[import-untyped]

from gmirs_referral_intake.adapters.sqs import SqsQueue
from gmirs_referral_intake.bootstrap import MIGRATIONS
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.processes import ManagedProcess
from gmirs_runtime.migrations import upgrade
from gmirs_stack.aws import AwsResources
from tests.bench.cpu import cpu_seconds
from tests.fakes.rm_harness import local_aws, rm_simulator_process
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

pytestmark = pytest.mark.bench
MESSAGES = int(os.environ.get("BENCH_SQS_MESSAGES", "300"))


async def _publish_held(sim_url: str, n: int) -> None:
    """Create `n` referrals in the simulator and publish their `referral.sent` to SNS at once."""
    async with httpx.AsyncClient(base_url=sim_url, timeout=60) as http:
        for _ in range(n):
            response = await http.post(
                "/_control/referrals", json={"channels": ["sns"], "delivery": "hold"}
            )
            assert response.status_code == 200
        released = await http.post("/_control/release", json={})
        assert released.status_code == 200


async def _depth(aws: AwsResources) -> int:
    async with get_session().create_client("sqs", **aws.client_kwargs()) as sqs:
        attributes = await sqs.get_queue_attributes(
            QueueUrl=aws.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]) + int(
        values["ApproximateNumberOfMessagesNotVisible"]
    )


async def _wait_until(check: Any, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.2)


async def _intake_rate(
    database_url: str, kafka: str, aws: AwsResources, sim_url: str, issuer, log: Path
) -> tuple[float, float]:
    """Messages per second from the first applied to the last, and intake's CPU per message."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "intake")
    await _publish_held(sim_url, MESSAGES)
    await _wait_until(lambda: _depth_is(aws, MESSAGES), 60)
    env = {
        "INTAKE_ENVIRONMENT": "test",
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "INTAKE_HTTP_PORT": str(free_port()),
        "INTAKE_AUTH_ISSUER": issuer.url,
        "INTAKE_AUTH_JWKS_URL": issuer.jwks_url,
        "INTAKE_LOG_LEVEL": "WARNING",
        "INTAKE_RM_API_URL": sim_url,
        "INTAKE_HMPPS_AUTH_URL": f"{sim_url}/auth",
        "INTAKE_RM_CLIENT_ID": DEFAULT_CLIENT_ID,
        "INTAKE_RM_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "INTAKE_SQS_WAIT_SECONDS": "1",
        "INTAKE_SQS_POLLERS": os.environ.get("BENCH_SQS_POLLERS", "2"),
        "INTAKE_RECONCILE_ENABLED": "false",  # a poll round would take referrals off this path
        **aws.intake_env(),
    }
    process = ManagedProcess(
        "intake", [sys.executable, "-m", "gmirs_referral_intake", "run"], log_path=log, env=env
    )
    conn = await asyncpg.connect(database_url)
    process.start()
    try:
        # Watch progress in the database: asking moto for the depth would take its CPU from intake.
        await _wait_until(lambda: _applied_at_least(conn, 1), 120)
        assert process.pid is not None
        cpu_before = cpu_seconds(process.pid)
        await _wait_until(lambda: _applied_at_least(conn, MESSAGES), 300)
        cpu_per_message = (cpu_seconds(process.pid) - cpu_before) / (MESSAGES - 1)
        await _wait_until(lambda: _depth_is(aws, 0), 60)  # every message deleted
        first, last, count = await conn.fetchrow(
            "SELECT min(processed_at), max(processed_at), count(*) FROM intake.rm_events"
        )
    finally:
        await process.stop()
        await conn.close()
    assert count == MESSAGES
    return float((count - 1) / (last - first).total_seconds()), cpu_per_message


async def _applied_at_least(conn: asyncpg.Connection, count: int) -> bool:
    return int(await conn.fetchval("SELECT count(*) FROM intake.rm_events")) >= count


async def _depth_is(aws: AwsResources, n: int) -> bool:
    return await _depth(aws) == n


async def _moto_floor(aws: AwsResources, body: str) -> float:
    """moto receiving and deleting messages of the same size from a queue of the same depth.

    The floor queue copies the intake queue's redrive policy and visibility timeout, and is read
    through intake's own SqsQueue, so moto does the same work per call as it does for intake.
    """
    async with get_session().create_client("sqs", **aws.client_kwargs()) as sqs:
        same_as_intake = (
            await sqs.get_queue_attributes(
                QueueUrl=aws.queue_url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
            )
        )["Attributes"]
        url = (await sqs.create_queue(QueueName="bench-floor", Attributes=same_as_intake))[
            "QueueUrl"
        ]
        for start in range(0, MESSAGES, 10):
            entries = [
                {"Id": str(i), "MessageBody": body} for i in range(start, min(start + 10, MESSAGES))
            ]
            await sqs.send_message_batch(QueueUrl=url, Entries=entries)
        queue = SqsQueue(sqs, url)
        visibility = int(same_as_intake["VisibilityTimeout"])
        done, started = 0, time.perf_counter()
        while done < MESSAGES:
            received = await queue.receive(wait_seconds=1, visibility_seconds=visibility)
            if received:
                assert await queue.delete(received) == 0
            done += len(received)
        return MESSAGES / (time.perf_counter() - started)


async def test_sqs_path_against_moto(
    database_url, kafka_broker, token_issuer, tmp_path, report
) -> None:
    async with local_aws(tmp_path) as aws:
        with rm_simulator_process(aws=aws) as simulator:
            rate, cpu_per_message = await _intake_rate(
                database_url,
                kafka_broker.bootstrap,
                aws,
                simulator.base_url,
                token_issuer,
                tmp_path / "intake.log",
            )
        floor = await _moto_floor(aws, "x" * 1500)
    report.append(
        f"intake SQS path (received -> outbox committed -> deleted): {rate:,.0f} messages/s  |  "
        f"floor, moto raw receive+delete at the same depth: {floor:,.0f}/s  |  ratio {rate / floor:.2f} "
        f"(aim >= 0.8)  [{MESSAGES} messages, each also fetched from the R&M simulator; "
        f"intake CPU {cpu_per_message * 1000:.1f} ms/message]"
    )
