"""pytest plugin loaded for every run (`-p gmirs_runtime.testing.plugin`): real infrastructure as fixtures.

PostgreSQL and the broker start only when a test first asks for them, once per session, and are stopped at
session end whatever happened (and, being child processes that die with their parent, even if pytest is killed).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.local.tansu import TansuBroker


class NameFactory(Protocol):
    def __call__(self, prefix: str = "t") -> str: ...


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_server() -> AsyncIterator[EmbeddedPostgres]:
    """One PostgreSQL server per session, data in a throwaway directory (outside pytest's private tmp)."""
    root = Path(tempfile.mkdtemp(prefix="gmirs-pg-"))
    server = EmbeddedPostgres(root / "data", free_port())
    try:
        await server.start()
        yield server
    finally:
        await server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TansuBroker]:
    """One Tansu broker per session; its log stays in pytest's tmp dir for post-mortems."""
    broker = TansuBroker(free_port(), log_path=tmp_path_factory.mktemp("tansu") / "broker.log")
    try:
        await broker.start()
        yield broker
    finally:
        await broker.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def database_url(postgres_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A fresh, empty database for this test only; dropped afterwards (open connections are cut)."""
    async with own_database(postgres_server) as url:
        yield url


@pytest.fixture
def unique_name() -> NameFactory:
    """Names for topics and consumer groups that no other test (or earlier run) uses."""

    def make(prefix: str = "t") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture(scope="session")
def _session_span_exporter() -> InMemorySpanExporter:
    """Capture spans of the global tracer provider, installing an SDK provider if none is set yet."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def span_exporter(_session_span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    """Spans finished during this test (cleared before it starts)."""
    _session_span_exporter.clear()
    return _session_span_exporter


# Fixtures defined beside their helpers, registered here so every test session has them.
from gmirs_runtime.testing.issuer import token_issuer  # noqa: E402, F401
from gmirs_runtime.testing.services import own_database, start_service  # noqa: E402, F401
