"""One moto server per session for the fakes' tests; queues are emptied before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from gmirs_stack.aws import AwsResources
from tests.fakes.rm_harness import local_aws, receive_all


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def moto_aws(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AwsResources]:
    async with local_aws(tmp_path_factory.mktemp("moto")) as resources:
        yield resources


@pytest_asyncio.fixture(loop_scope="session")
async def aws(moto_aws: AwsResources) -> AwsResources:
    """The session's resources with both queues drained (moto allows one purge a minute)."""
    for url in (moto_aws.queue_url, moto_aws.dlq_url):
        await receive_all(moto_aws, url, wait_s=0)
    return moto_aws
