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
        async with case.as_client("ops-anna", ["operator"]) as ops:
            await assert_dead_letters_listed(ops)
            await assert_nul_refused(ops, "POST", VIEW, "body.reason", json={"reason": "a\x00b"})
