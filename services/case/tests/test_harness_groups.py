"""The test harness keeps one member per consumer group in a test process.

Two case services of one test run at once in group `case` left the local broker's group, now and
then, in a rebalance no later member finished: every later test's case service then waited past
its start-up limit. The harness refuses a second member instead; a second service of a kind runs
with `consumers=False` (its API and relay, no group member).
"""

from __future__ import annotations

import pytest

from gmirs_case.bootstrap import CONSUMER_GROUP, MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.services import SharedGroupError


async def test_a_second_member_of_a_running_group_is_refused(start_service) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as first:
        with pytest.raises(SharedGroupError, match=f"'{CONSUMER_GROUP}'"):
            async with start_service(CaseSettings, build, MIGRATIONS):
                pytest.fail("a second member of the group was started")
        async with first.client(None) as http:
            assert (await http.get("/ready")).status_code == 200


async def test_a_service_without_consumers_serves_beside_a_running_one(start_service) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as first:
        async with start_service(CaseSettings, build, MIGRATIONS, consumers=False) as second:
            (member,) = second.infra.consumers
            assert not member.assigned.is_set()  # built, never run: it never joined
            async with second.client(None) as http:
                assert (await http.get("/ready")).status_code == 200
        async with first.client(None) as http:
            assert (await http.get("/ready")).status_code == 200
    async with start_service(CaseSettings, build, MIGRATIONS) as again:  # the group is free
        assert again.infra.consumers[0].assigned.is_set()
