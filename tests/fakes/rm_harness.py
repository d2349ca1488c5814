"""Test helpers around the R&M simulator: moto with the HMPPS topology, the simulator as a process,
an SQS reader and an SNS HTTP receiver, so every test that needs R&M events starts them alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from aiobotocore.session import get_session  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gmirs_runtime.local.ports import free_port
from gmirs_stack.aws import AwsResources, moto_endpoint, provision, start_moto
from tests.fakes.process import RunningFake, run_fake
from tests.fakes.rm_simulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TOKEN_TTL_S,
    RmSimulator,
    create_app,
)
from tests.fakes.rm_sns import SnsTarget

MODULE = "tests.fakes.rm_simulator"


@asynccontextmanager
async def local_aws(
    log_dir: Path, *, max_receive_count: int = 5, visibility_timeout_s: int = 30
) -> AsyncIterator[AwsResources]:
    """A moto server process on a free port, provisioned with the topic, queue, DLQ and filter."""
    port = free_port()
    moto = await start_moto(port, log_dir / f"moto-{port}.log")
    try:
        yield await provision(
            moto_endpoint(port),
            max_receive_count=max_receive_count,
            visibility_timeout_s=visibility_timeout_s,
        )
    finally:
        await moto.stop()


def sns_target(aws: AwsResources) -> SnsTarget:
    return SnsTarget(aws.topic_arn, aws.endpoint_url, aws.access_key, aws.secret_key)


@contextmanager
def rm_simulator_process(
    *,
    aws: AwsResources | None = None,
    push_url: str | None = None,
    token_ttl: int | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    extra: Sequence[str] = (),
) -> Iterator[RunningFake]:
    """Run ``python -m tests.fakes.rm_simulator`` on a free port for the block."""
    # `--option=value`: a secret beginning with "-" is not taken for an option.
    args = [f"--client-id={client_id}", f"--client-secret={client_secret}", *extra]
    if aws is not None:
        args += aws.simulator_args()
    if push_url is not None:
        args += ["--push-url", push_url]
    if token_ttl is not None:
        args += ["--token-ttl", str(token_ttl)]
    with run_fake(MODULE, *args) as running:
        yield running


async def receive_all(
    aws: AwsResources,
    queue_url: str,
    *,
    delete: bool = True,
    empty_rounds: int = 1,
    wait_s: int = 1,
) -> list[dict[str, Any]]:
    """Every message now in a queue (SQS message dicts with system attributes), until a poll
    waiting `wait_s` seconds comes back empty `empty_rounds` times in a row."""
    found: list[dict[str, Any]] = []
    misses = 0
    async with get_session().create_client("sqs", **aws.client_kwargs()) as sqs:
        while misses < empty_rounds:
            response = await sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            misses = 0 if messages else misses + 1
            found += messages
            for message in messages if delete else ():
                await sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def notification(message: dict[str, Any]) -> dict[str, Any]:
    """The SNS Notification an SQS message body carries (raw delivery is off)."""
    body: dict[str, Any] = json.loads(message["Body"])
    return body


@dataclass
class SnsReceiver:
    """An HTTP endpoint that records what SNS (here: the simulator) pushes to it."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def _receive(self, request: Request) -> Response:
        self.received.append(json.loads(await request.body()))
        self.headers.append(dict(request.headers))
        return Response(status_code=200)


@asynccontextmanager
async def sns_receiver(path: str = "/sns") -> AsyncIterator[SnsReceiver]:
    """A recording endpoint on a free loopback port, served in this event loop for the block."""
    port = free_port()
    receiver = SnsReceiver(f"http://127.0.0.1:{port}{path}")
    app = Starlette(routes=[Route(path, receiver._receive, methods=["POST"])])
    async with serve_in_loop(app, port):
        yield receiver


@asynccontextmanager
async def rm_simulator_in_loop(
    *,
    aws: AwsResources | None = None,
    push_url: str | None = None,
    token_ttl: int = DEFAULT_TOKEN_TTL_S,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
) -> AsyncIterator[RmSimulator]:
    """The simulator on real HTTP in this event loop, for clients that cannot take an ASGI
    transport (authlib's, aiobotocore's); its state is the yielded object (`.base_url`)."""
    port = free_port()
    app = create_app(
        base_url=f"http://127.0.0.1:{port}",
        sns=sns_target(aws) if aws is not None else None,
        push_url=push_url,
        token_ttl=token_ttl,
        client_id=client_id,
        client_secret=client_secret,
    )
    async with serve_in_loop(app, port):
        yield app.state.rm


@asynccontextmanager
async def serve_in_loop(app: ASGIApp, port: int) -> AsyncIterator[None]:
    """Run `app` under uvicorn on 127.0.0.1:`port` as a task of the running loop; stop on exit."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", http="h11", ws="none", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):  # bounded: 10 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        if not server.started:
            raise RuntimeError(f"nothing served on 127.0.0.1:{port}")
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
