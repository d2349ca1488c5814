"""A referral whose event the broker could not take is refused with a 413 and nothing is saved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.testing.services import RunningService

LIMIT = 4096
BODY: dict[str, Any] = {
    "reference_number": "SZ1234AB",
    "probation_delivery_unit": "Bolton",
    "person": {"crn": "A123456", "given_name": "Sam", "family_name": "Sample"},
    "service_categories": [{"name": "Emotional Wellbeing", "complexity": "high"}],
    "referring_practitioner": {"name": "Pat", "email": "pat@probation.example"},
}


@pytest.fixture
async def intake(start_service) -> AsyncIterator[RunningService]:
    async with start_service(
        IntakeSettings,
        build,
        MIGRATIONS,
        pdu_hubs={"Bolton": "bolton"},
        kafka_max_request_size=LIMIT,
    ) as service:
        yield service


async def test_a_referral_too_large_to_publish_is_refused_and_nothing_is_committed(
    intake: RunningService,
) -> None:
    outcomes = ["x" * 1000] * 5
    large = {
        **BODY,
        "service_categories": [{**BODY["service_categories"][0], "desired_outcomes": outcomes}],
    }
    async with intake.as_client("lead-provider", ["lead-provider"]) as http:
        refused = await http.post("/referrals", json=large)
        accepted = await http.post("/referrals", json={**BODY, "reference_number": "SZ1234AC"})
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["type"], problem["limit_bytes"]) == ("/problems/event-too-large", LIMIT)
    assert "A123456" not in refused.text
    assert accepted.status_code in (200, 201, 202), accepted.text
    async with intake.infra.engine.connect() as conn:
        referrals = await conn.scalar(text("SELECT count(*) FROM referrals"))
        events = await conn.scalar(text("SELECT count(*) FROM outbox"))
    assert (referrals, events) == (1, 1)
