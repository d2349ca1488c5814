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


async def test_parked_outbox_routes_are_for_operators_and_bounded(api: Notify) -> None:
    listed = await api.call(OPERATOR, "GET", "/operator/outbox")
    refused = await api.call(PROBATION_A, "GET", "/operator/outbox")
    unknown = await api.call(OPERATOR, "POST", "/operator/outbox/1/retry", json=WHY)
    unreasoned = await api.call(OPERATOR, "POST", "/operator/outbox/1/discard", json={})
    assert (listed.status_code, listed.json()) == (200, {"items": []})
    assert refused.status_code == 403
    assert unknown.status_code == 404
    assert unreasoned.status_code == 422
    for row_id in (0, 2**63, 2**64):
        for action in ("retry", "discard"):
            path = f"/operator/outbox/{row_id}/{action}"
            assert (await api.call(OPERATOR, "POST", path, json=WHY)).status_code == 422
