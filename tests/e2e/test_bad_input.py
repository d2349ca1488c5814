"""Bad input gets a clear problem-details answer and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.platform import Platform, database_count
from tests.e2e.referrals import direct_referral
from tests.e2e.test_walking_skeleton import _open_case

pytestmark = pytest.mark.e2e


async def test_invalid_referral_is_refused_field_by_field_and_nothing_is_written(
    platform: Platform,
) -> None:
    before = await database_count(platform, "SELECT count(*) FROM intake.referrals")
    outbox_before = await database_count(platform, "SELECT count(*) FROM intake.outbox")
    body = direct_referral("Nowhere")
    body["person"]["crn"] = "not-a-crn"
    body["service_categories"] = []
    response = await platform.call("lead-provider", "POST", "intake", "/referrals", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    fields = {e["field"] for e in problem["errors"]}
    assert {"body.person.crn", "body.probation_delivery_unit", "body.service_categories"} <= fields
    assert "not-a-crn" not in response.text
    assert await database_count(platform, "SELECT count(*) FROM intake.referrals") == before
    assert await database_count(platform, "SELECT count(*) FROM intake.outbox") == outbox_before


async def test_wrong_role_and_missing_token_are_problems(platform: Platform) -> None:
    hub = await platform.call("hub-bolton", "POST", "intake", "/referrals", json=direct_referral())
    assert hub.status_code in (401, 403)
    import httpx

    async with httpx.AsyncClient(base_url=platform.stack.url("intake")) as http:
        anonymous = await http.post("/referrals", json=direct_referral())
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")


async def test_attendance_for_a_future_appointment_is_refused_and_changes_nothing(
    platform: Platform,
) -> None:
    case_id = await _open_case(platform, "Wigan")
    start = datetime.now(UTC) + timedelta(days=1)
    contact = {"occurred_at": datetime.now(UTC).isoformat()}
    path = f"/cases/{case_id}/first-contact"
    contacted = await platform.call("hub-wigan", "POST", "case", path, json=contact)
    assert contacted.status_code == 200, contacted.text  # an assessment is booked after contact
    booked = await platform.call(
        "hub-wigan",
        "POST",
        "case",
        f"/cases/{case_id}/appointments",
        json={
            "kind": "initial-assessment",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "delivery_type": "video-call",
        },
    )
    assert booked.status_code == 201
    appointment = booked.json()["id"]
    path = f"/cases/{case_id}/appointments/{appointment}/attendance"
    refused = await platform.call(
        "hub-wigan", "PUT", "case", path, json={"attended": "no", "session_happened": False}
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    unknown = await platform.call(
        "hub-wigan", "PUT", "case", path, json={"attended": "maybe", "session_happened": False}
    )
    assert unknown.status_code == 422
    case = await platform.call("hub-wigan", "GET", "case", f"/cases/{case_id}")
    assert case.json()["appointments"][0]["attendance"] is None


async def test_a_nul_character_in_a_referral_is_refused_and_nothing_is_written(
    platform: Platform,
) -> None:
    """PostgreSQL cannot store NUL in text or JSONB: it must be refused before it gets there
    (where PostgreSQL would also log the data around it: the log check catches that)."""
    before = await database_count(platform, "SELECT count(*) FROM intake.referrals")
    body = direct_referral()
    body["person"]["given_name"] += "\u0000"
    response = await platform.call("lead-provider", "POST", "intake", "/referrals", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await database_count(platform, "SELECT count(*) FROM intake.referrals") == before
