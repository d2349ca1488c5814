"""Hostile input on the case service's real routes, and its operator paths."""

from __future__ import annotations

import uuid

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.hostile import (
    assert_allow,
    assert_body_limit,
    assert_dead_letters_listed,
    assert_duplicate_key_refused,
    assert_nul_refused,
)

APPOINTMENT = {
    "kind": "session",
    "session_number": 1,
    "starts_at": "2026-12-01T10:00:00Z",
    "ends_at": "2026-12-01T11:00:00Z",
    "delivery_type": "phone-call",
}
# Lax pydantic took all of these: a number as a time (Unix seconds), a digit string as a number.
STRICT_REFUSALS = [
    ("starts_at", 0),
    ("starts_at", "1970-01-01T10:00:00Z"),
    ("ends_at", "2300-01-01T10:00:00Z"),
    ("session_number", "2"),
    ("session_number", 2.0),
]
VIEW = "/operator/dead-letters/intake.referral-events.v1.case.dlt/0/0/view"


async def test_hostile_input_is_refused_with_problems(start_service) -> None:
    appointments = f"/cases/{uuid.uuid4()}/appointments"
    async with start_service(CaseSettings, build, MIGRATIONS) as case:
        async with case.as_client("hub-bolton", ["hub"], {"hub_id": "bolton"}) as http:
            await assert_body_limit(http, "POST", appointments)
            await assert_nul_refused(
                http, "POST", appointments, "body.kind", json={"kind": "session\x00"}
            )
            await assert_duplicate_key_refused(
                http, "POST", appointments, '{"kind": "session", "kind": "x"}', "body.kind"
            )
            await assert_allow(http, "DELETE", f"/cases/{uuid.uuid4()}", ["GET"])
            for field, value in STRICT_REFUSALS:
                refused = await http.post(appointments, json={**APPOINTMENT, field: value})
                assert refused.status_code == 422, (field, value)
                assert [e["field"] for e in refused.json()["errors"]] == [f"body.{field}"]
        async with case.as_client("ops-anna", ["operator"]) as ops:
            await assert_dead_letters_listed(ops)
            await assert_nul_refused(ops, "POST", VIEW, "body.reason", json={"reason": "a\x00b"})
