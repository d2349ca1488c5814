"""Referrals from Refer and Monitor, as real processes: simulator -> SNS -> SQS (moto) -> intake -> case.

Every R&M event type, duplicates and disorder, poison, a tampered SNS push, R&M down and back, a
token that expires mid-run, and a message that keeps failing: each ends with one referral, one
history, and anything unusable kept with its reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gmirs_runtime.testing.kafka import eventually
from gmirs_stack.aws import queue_depth
from tests.e2e.platform import Platform, data_of, database_count, event_type
from tests.e2e.rm import rm_control as _rm

pytestmark = pytest.mark.e2e
INTAKE = "intake.referral-events.v1"


@pytest.fixture(autouse=True)
async def no_faults_left_over(platform: Platform) -> None:
    """Each test scripts its own R&M faults; none carries over from the one before."""
    await _rm(platform, "/_control/faults", {"clear": True})


async def _events_for(
    platform: Platform, rm_id: str, types: set[str], timeout: float = 30
) -> dict[str, dict[str, Any]]:
    """The intake events (one per type) carrying this R&M referral id, each validated."""
    records = await platform.records(
        INTAKE,
        lambda r: data_of(r).get("rm_referral_id") == rm_id and event_type(r) in types,
        count=len(types),
        timeout=timeout,
    )
    return {event_type(r): data_of(r) for r in records}


async def _referrals_held(platform: Platform, rm_id: str) -> int:
    return await database_count(
        platform,
        f"SELECT count(*) FROM intake.referrals WHERE referral->>'rm_referral_id' = '{rm_id}'",
    )


async def test_every_rm_event_type_flows_to_intake_events_and_a_case(platform: Platform) -> None:
    sns = {"channels": ["sns"]}
    created = await _rm(platform, "/_control/referrals", {"pdu": "Stockport", **sns})
    rm_id = created["referral_id"]
    received = await _events_for(platform, rm_id, {"gmirs.intake.referral-received.v1"})
    referral = received["gmirs.intake.referral-received.v1"]
    assert referral["hub_id"] == "stockport"
    assert referral["source"] == "refer-and-monitor"
    assert referral["person"]["crn"] == created["crn"]

    await _rm(
        platform, f"/_control/referrals/{rm_id}/assign", {"username": "caseworker.one", **sns}
    )
    plan = await _rm(
        platform, f"/_control/referrals/{rm_id}/action-plans", {"number_of_sessions": 2, **sns}
    )
    await _rm(platform, f"/_control/action-plans/{plan['action_plan_id']}/approve", sns)
    await _rm(
        platform, f"/_control/referrals/{rm_id}/initial-assessment", {"attended": "yes", **sns}
    )
    await _rm(platform, f"/_control/referrals/{rm_id}/sessions/1", {"attended": "no", **sns})
    await _rm(platform, f"/_control/referrals/{rm_id}/end-of-service-report", sns)
    await _rm(
        platform, f"/_control/referrals/{rm_id}/conclude", {"delivery_state": "COMPLETED", **sns}
    )
    await _rm(platform, f"/_control/referrals/{rm_id}/end", {"delivery_state": "COMPLETED", **sns})

    kinds = {
        "gmirs.intake.referral-assigned.v1",
        "gmirs.intake.action-plan-submitted.v1",
        "gmirs.intake.action-plan-approved.v1",
        "gmirs.intake.attendance-recorded.v1",
        "gmirs.intake.session-feedback-submitted.v1",
        "gmirs.intake.end-of-service-report-submitted.v1",
        "gmirs.intake.referral-concluded.v1",
        "gmirs.intake.referral-ended.v1",
    }
    events = await _events_for(platform, rm_id, kinds)
    assert {e["referral_id"] for e in events.values()} == {referral["referral_id"]}
    attendance = await platform.records(
        INTAKE,
        lambda r: (
            event_type(r) == "gmirs.intake.attendance-recorded.v1"
            and data_of(r)["rm_referral_id"] == rm_id
        ),
        count=2,
    )
    assert sorted(data_of(r)["non_attendance"] for r in attendance) == [False, True]

    async def case_opened() -> bool:
        sql = f"SELECT count(*) FROM casework.cases WHERE referral_id = '{referral['referral_id']}'"
        return await database_count(platform, sql) == 1

    await eventually(case_opened, timeout=30)


async def test_duplicates_and_disorder_end_as_one_referral_with_one_history(
    platform: Platform,
) -> None:
    await _rm(platform, "/_control/faults", {"duplicate_next": 2})
    held = {"channels": ["sns"], "delivery": "hold"}
    created = await _rm(platform, "/_control/referrals", {"pdu": "Rochdale", **held})
    rm_id = created["referral_id"]
    await _rm(
        platform, f"/_control/referrals/{rm_id}/assign", {"username": "caseworker.two", **held}
    )
    await _rm(platform, "/_control/release", {"order": "reversed"})  # assigned arrives before sent

    events = await _events_for(
        platform, rm_id, {"gmirs.intake.referral-received.v1", "gmirs.intake.referral-assigned.v1"}
    )
    assert len(events) == 2
    await asyncio.sleep(3)  # let the duplicate deliveries arrive too
    assert await _referrals_held(platform, rm_id) == 1
    again = await platform.records(
        INTAKE, lambda r: data_of(r).get("rm_referral_id") == rm_id, count=2
    )
    assert len({dict(r.headers)["ce_id"] for r in again}) == 2


async def test_poison_and_tampered_pushes_are_kept_out(platform: Platform) -> None:
    await _rm(
        platform,
        "/_control/publish-raw",
        {"message": "{this is not json", "event_type": "intervention.referral.sent"},
    )

    async def quarantined() -> bool:
        response = await platform.call("operator", "GET", "intake", "/operator/quarantine")
        return any(
            "JSON" in item["reason"] or "json" in item["reason"]
            for item in response.json()["items"]
        )

    await eventually(quarantined, timeout=30)

    await _rm(platform, "/_control/faults", {"tamper_next_pushes": 1})
    tampered = await _rm(platform, "/_control/referrals", {"pdu": "Bury", "channels": ["push"]})
    assert tampered["events"][0]["push_status"] == 403, tampered["events"]
    await asyncio.sleep(1)
    assert await _referrals_held(platform, tampered["referral_id"]) == 0
    genuine = await _rm(platform, "/_control/referrals", {"pdu": "Bury", "channels": ["push"]})
    assert genuine["events"][0]["push_status"] in (200, 202)
    await _events_for(platform, genuine["referral_id"], {"gmirs.intake.referral-received.v1"})


async def test_rm_down_a_while_then_back_and_a_token_expiring_mid_run(
    platform: Platform,
) -> None:
    # R&M's minute down is compressed to 12 s, within intake's outage tolerance of 24 s here
    # (tests/e2e/conftest.py; 15 minutes in production): the same sequence, in less time.
    await _rm(platform, "/_control/expire-tokens")
    await _rm(platform, "/_control/faults", {"api_status": 503, "api_fail_seconds": 12})
    created = await _rm(platform, "/_control/referrals", {"pdu": "Oldham", "channels": ["sns"]})
    rm_id = created["referral_id"]

    async def pending() -> bool:
        response = await platform.call("operator", "GET", "intake", "/operator/pending")
        return bool(response.json()["items"])

    await eventually(pending, timeout=30)
    assert await _referrals_held(platform, rm_id) == 0
    # R&M is back after 12 s: the message, hidden between receives, is processed then.
    await _events_for(platform, rm_id, {"gmirs.intake.referral-received.v1"}, timeout=150)
    assert await _referrals_held(platform, rm_id) == 1


async def test_a_message_that_keeps_failing_reaches_the_dlq_and_our_quarantine(
    platform: Platform,
) -> None:
    aws = platform.stack.aws
    assert aws is not None
    before = await queue_depth(aws.endpoint_url, aws.dlq_url)
    await _rm(platform, "/_control/faults", {"api_status": 500, "api_fail_requests": 1000})
    try:
        created = await _rm(platform, "/_control/referrals", {"pdu": "Wigan", "channels": ["sns"]})

        async def dead_lettered() -> bool:
            return await queue_depth(aws.endpoint_url, aws.dlq_url) > before

        await eventually(dead_lettered, timeout=90)
    finally:
        await _rm(platform, "/_control/faults", {"clear": True})
    response = await platform.call("operator", "GET", "intake", "/operator/quarantine")
    reasons = [i["reason"] for i in response.json()["items"] if i["source"] == "sqs"]
    assert any("receives" in reason for reason in reasons)
    assert await _referrals_held(platform, created["referral_id"]) == 0
