"""One whole platform (real processes) for the end-to-end tests, started once per session."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from gmirs_runtime.local.ports import free_port
from gmirs_stack.config import Ports
from gmirs_stack.stack import LocalStack
from tests.e2e.platform import Platform
from tests.fakes.process import RunningFake, run_fake

FAST_GROUPS = {
    "*_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "*_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
    "*_KAFKA_FETCH_MAX_WAIT_MS": "20",
    "NOTIFY_DISPATCH_POLL_SECONDS": "0.2",
    "INTAKE_RETRY_INITIAL_SECONDS": "0.2",
    "INTAKE_RETRY_MAX_SECONDS": "1",
    "INTAKE_SQS_WAIT_SECONDS": "1",
    # Production spreads a failing message's receives over 15 minutes of R&M outage; here over
    # 24 s, so "R&M down a while" and "still failing, to the DLQ" take seconds, not minutes.
    "INTAKE_SQS_OUTAGE_TOLERANCE_SECONDS": "24",
    # Tests (and the benchmark that shares these) call as a few clients from one address: the
    # per-client request limits are raised so that none of them is throttled by accident.
    "*_RATE_LIMIT_PER_SECOND": "1000000",
    "*_RATE_LIMIT_BURST": "1000000",
}


LOG_CHECK = "test_logs_hold_no_personal_data.py::test_no_personal_data_or_secrets_in_any_log"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the log check right after the last other end-to-end test: it reads their logs."""
    check = next((item for item in items if item.nodeid.endswith(LOG_CHECK)), None)
    if check is None:
        return
    items.remove(check)
    e2e = [i for i, item in enumerate(items) if item.nodeid.startswith("tests/e2e/")]
    items.insert(e2e[-1] + 1 if e2e else len(items), check)


@pytest.fixture(scope="session")
def collector() -> Iterator[RunningFake]:
    with run_fake("tests.fakes.otlp_collector") as fake:
        yield fake


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def platform(collector: RunningFake) -> AsyncIterator[Platform]:
    root = Path(tempfile.mkdtemp(prefix="gmirs-e2e-"))
    ports = Ports(**{name: free_port() for name in Ports().named()})
    stack = LocalStack(root, ports, service_env=FAST_GROUPS, otlp_endpoint=collector.base_url)
    try:
        await stack.start()
        yield Platform(stack, collector.base_url)
    finally:
        await stack.stop()
        shutil.rmtree(root, ignore_errors=True)
