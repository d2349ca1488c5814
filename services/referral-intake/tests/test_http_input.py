"""Hostile input on intake's real routes: huge bodies, NUL, duplicate keys, 405s, operator paths."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.testing.hostile import (
    assert_allow,
    assert_body_limit,
    assert_dead_letters_listed,
    assert_duplicate_key_refused,
    assert_nul_refused,
)

BODY: dict[str, Any] = {
    "probation_delivery_unit": "Bolton",
    "person": {"crn": "A123456", "given_name": "Sam", "family_name": "Sample"},
    "service_categories": [{"name": "Emotional Wellbeing", "complexity": "high"}],
    "referring_practitioner": {"name": "Pat", "email": "pat@probation.example"},
}

# Names refuse control and bidi-override characters, free text allows newlines; dates are
# strings within plausible ranges (lax pydantic read a number as a Unix time).
REFUSED: list[tuple[tuple[str, ...], Any]] = [
    (("person", "given_name"), "Sam\u202egnirts"),
    (("person", "family_name"), "Sample\n"),
    (("person", "date_of_birth"), 0),
    (("person", "date_of_birth"), "1850-01-01"),
    (("person", "disabilities"), ["x"] * 21),
    (("needs", "additional_needs"), "bell\x07"),
    (("sent_at",), 1764583200),
    (("completion_deadline",), "2300-01-01"),
    (("needs", "needs_interpreter"), "yes"),
    (("needs", "has_additional_responsibilities"), 1),
]


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    target = body
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return body


async def test_hostile_input_is_refused_with_problems(start_service) -> None:
    async with start_service(
        IntakeSettings, build, MIGRATIONS, pdu_hubs={"Bolton": "bolton"}
    ) as intake:
        async with intake.as_client("lead-provider", ["lead-provider"]) as http:
            await assert_body_limit(http, "POST", "/referrals")
            person = {**BODY["person"], "given_name": "Sam\x00"}
            await assert_nul_refused(
                http,
                "POST",
                "/referrals",
                "body.person.given_name",
                json={**BODY, "person": person},
            )
            await assert_nul_refused(http, "GET", f"/referrals/{uuid.uuid4()}?x=%00", "query.x")
            await assert_duplicate_key_refused(
                http,
                "POST",
                "/referrals",
                '{"probation_delivery_unit": "Bolton", "probation_delivery_unit": "Bury"}',
                "body.probation_delivery_unit",
            )
            await assert_allow(http, "DELETE", "/referrals", ["POST"])
            for path, value in REFUSED:
                refused = await http.post("/referrals", json=_with(path, value))
                assert refused.status_code == 422, (path, value)
                assert [e["field"] for e in refused.json()["errors"]] == [".".join(("body", *path))]
            accepted = await http.post(
                "/referrals", json=_with(("needs", "additional_needs"), "Line one\nLine two")
            )
            assert accepted.status_code == 201, accepted.text
        async with intake.as_client("ops-anna", ["operator"]) as ops:
            await assert_dead_letters_listed(ops)
