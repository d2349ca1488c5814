"""Hostile input on metrics' real routes, and its operator paths before any dead letter exists."""

from __future__ import annotations

from gmirs_metrics.bootstrap import MIGRATIONS, build
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.testing.hostile import (
    assert_allow,
    assert_body_limit,
    assert_dead_letters_listed,
    assert_nul_refused,
)

VIEW = "/operator/dead-letters/intake.referral-events.v1.metrics.dlt/0/0/view"


async def test_hostile_input_is_refused_with_problems(start_service) -> None:
    async with start_service(MetricsSettings, build, MIGRATIONS) as metrics:
        async with metrics.as_client("commissioner", ["commissioner"]) as http:
            await assert_nul_refused(
                http, "GET", "/kpis/referrals-by-borough?month=2026-11%00", "query.month"
            )
            await assert_allow(http, "POST", "/kpis/referrals-by-borough", ["GET"])
        async with metrics.as_client("ops-anna", ["operator"]) as ops:
            assert await assert_dead_letters_listed(ops) == []
            await assert_body_limit(ops, "POST", VIEW)
            await assert_nul_refused(ops, "POST", VIEW, "body.reason", json={"reason": "a\x00b"})
