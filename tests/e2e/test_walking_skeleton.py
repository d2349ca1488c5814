"""One referral through all four services, as real processes, in one trace.

A direct referral is posted to intake; case opens a case owned by the Bolton hub; metrics counts
it for Bolton; the hub records a non-attendance; notify delivers a signed webhook to the
probation system; every event on the way validates against contracts/.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_runtime.testing.kafka import eventually
from tests.e2e.platform import Platform, data_of, event_type, probation_deliveries
from tests.e2e.referrals import direct_referral

pytestmark = pytest.mark.e2e


def _traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


async def test_referral_to_case_to_metrics_in_one_trace(platform: Platform) -> None:
    trace_id, traceparent = _traceparent()
    body = direct_referral("Manchester South")
    response = await platform.call(
        "lead-provider",
        "POST",
        "intake",
        "/referrals",
        json=body,
        headers={"traceparent": traceparent},
    )
    assert response.status_code == 201, response.text
    accepted = response.json()
    referral_id = accepted["referral_id"]
    assert accepted["hub_id"] == "manchester"
    assert accepted["status"] == "routed"

    (received,) = await platform.records(
        "intake.referral-events.v1", lambda r: data_of(r).get("referral_id") == referral_id
    )
    assert event_type(received) == "gmirs.intake.referral-received.v1"
    assert received.key == referral_id.encode()
    headers = dict(received.headers)
    assert body["person"]["crn"].encode() not in b"".join(v for v in headers.values() if v)

    (opened,) = await platform.records(
        "case.case-events.v1",
        lambda r: (
            event_type(r) == "gmirs.case.case-opened.v1"
            and data_of(r)["referral_id"] == referral_id
        ),
    )
    case_id = data_of(opened)["case_id"]
    case = await platform.call("hub-manchester", "GET", "case", f"/cases/{case_id}")
    assert case.status_code == 200
    assert case.json()["hub_id"] == "manchester"
    assert case.json()["crn"] == body["person"]["crn"]
    other_hub = await platform.call("hub-bolton", "GET", "case", f"/cases/{case_id}")
    assert other_hub.status_code == 404
    assert other_hub.headers["content-type"].startswith("application/problem+json")

    month = accepted["received_at"][:7]

    async def counted() -> bool:
        kpi = await platform.call(
            "commissioner", "GET", "metrics", "/kpis/referrals-by-borough", params={"month": month}
        )
        return any(
            b["hub_id"] == "manchester" and b["referrals"] >= 1 for b in kpi.json()["boroughs"]
        )

    await eventually(counted, timeout=20)

    spans = await platform.wait_for_spans(
        trace_id,
        {
            "referral-intake: POST /referrals",
            "referral-intake: send intake.referral-events.v1",
            "case: process intake.referral-events.v1",
            "metrics: process intake.referral-events.v1",
            "case: send case.case-events.v1",
        },
    )
    assert {s["trace_id"] for s in spans} == {trace_id}
    assert all(body["person"]["crn"] not in str(s["attributes"]) for s in spans)


async def test_non_attendance_reaches_the_probation_system_signed_and_traced(
    platform: Platform,
) -> None:
    case_id = await _open_case(platform, "Bolton")
    now = datetime.now(UTC)
    booked = await platform.call(
        "hub-bolton",
        "POST",
        "case",
        f"/cases/{case_id}/appointments",
        json={
            "kind": "session",
            "session_number": 1,
            "starts_at": (now - timedelta(hours=2)).isoformat(),
            "ends_at": (now - timedelta(hours=1)).isoformat(),
            "delivery_type": "in-person-probation-office",
            "nps_office_code": "CRS0105",
        },
    )
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["id"]

    trace_id, traceparent = _traceparent()
    recorded = await platform.call(
        "hub-bolton",
        "PUT",
        "case",
        f"/cases/{case_id}/appointments/{appointment_id}/attendance",
        json={"attended": "no", "session_happened": False, "notify_pp_of_concerns": True},
        headers={"traceparent": traceparent},
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["attendance"]["non_attendance"] is True

    delivery = await _delivery_for(platform, appointment_id)
    assert delivery["verified"] is True
    assert delivery["body"]["type"] == "non-attendance.recorded"
    assert delivery["body"]["data"]["case_id"] == case_id
    assert delivery["traceparent"].split("-")[1] == trace_id

    (reported,) = await platform.records(
        "notify.delivery-events.v1",
        lambda r: (
            dict(r.headers)["ce_type"] == b"gmirs.notify.non-attendance-reported.v1"
            and data_of(r).get("appointment_id") == appointment_id
        ),
    )
    assert data_of(reported)["within_deadline"] is True
    await platform.wait_for_spans(
        trace_id,
        {
            "case: PUT /cases/{case_id}/appointments/{appointment_id}/attendance",
            "case: send case.case-events.v1",
            "notify: process case.case-events.v1",
        },
    )


async def _open_case(platform: Platform, pdu: str) -> str:
    response = await platform.call(
        "lead-provider", "POST", "intake", "/referrals", json=direct_referral(pdu)
    )
    assert response.status_code == 201, response.text
    referral_id = response.json()["referral_id"]
    (opened,) = await platform.records(
        "case.case-events.v1",
        lambda r: (
            event_type(r) == "gmirs.case.case-opened.v1"
            and data_of(r)["referral_id"] == referral_id
        ),
    )
    return str(data_of(opened)["case_id"])


async def _delivery_for(platform: Platform, appointment_id: str) -> dict:  # type: ignore[type-arg]
    found = await probation_deliveries(platform, appointment_id)
    assert len(found) == 1
    return found[0]
