"""Paging and position parameters past 64 bits are 422 problems, never server errors."""

from __future__ import annotations

from gmirs_runtime.paging import MAX_KAFKA_OFFSET, MAX_KAFKA_PARTITION
from gmirs_runtime.testing.paging import HUGE_INTEGERS, assert_bounded

from .harness import OPERATOR, PROBATION_A, Notify

WHY = {"reason": "checking bounds"}


async def test_subscription_and_delivery_pages_are_bounded(api: Notify) -> None:
    await assert_bounded(
        lambda params: api.call(PROBATION_A, "GET", "/subscriptions", params=params),
        "limit",
        "offset",
    )
    await assert_bounded(
        lambda params: api.call(OPERATOR, "GET", "/deliveries", params=params), "limit", "offset"
    )


async def test_dead_letter_positions_are_bounded(api: Notify) -> None:
    positions = [(p, 0) for p in (*HUGE_INTEGERS, MAX_KAFKA_PARTITION + 1)]
    positions += [(0, o) for o in (*HUGE_INTEGERS[1:], MAX_KAFKA_OFFSET + 1)]
    for partition, offset in positions:
        for action in ("view", "replay"):
            path = f"/operator/dead-letters/some-topic/{partition}/{offset}/{action}"
            response = await api.call(OPERATOR, "POST", path, json=WHY)
            assert response.status_code == 422, (partition, offset, action, response.text)
    # The largest valid position reaches the lookup, which finds no such dead letter.
    path = f"/operator/dead-letters/some-topic/{MAX_KAFKA_PARTITION}/{MAX_KAFKA_OFFSET}/view"
    assert (await api.call(OPERATOR, "POST", path, json=WHY)).status_code == 404
