"""Every operation of every service, called by every role, without a token and with a token for
another API: the outcome must be what the table in matrix.py says. And hubs are isolated: hub B
reaching hub A's case by id gets 404 on every route that takes a case id, and nothing changes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.probes.matrix import (
    ALLOWED,
    HUB,
    HUB_A,
    HUB_B,
    PUBLIC,
    ROLES,
    SERVICE_NAMES,
    Probed,
    document,
    documented_operations,
)

NO_TOKEN, WRONG_AUDIENCE = "no token", "token for another API"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_documented_operation_has_a_row_in_the_table(service: str) -> None:
    documented, tabled = documented_operations(service), set(ALLOWED[service])
    assert documented - tabled == set(), f"{service}: operations missing from ALLOWED"
    assert tabled - documented == set(), f"{service}: ALLOWED names operations that do not exist"


def _expectation(allowed: frozenset[str], caller: str) -> str:
    if allowed == PUBLIC:
        return "public"
    if caller in (NO_TOKEN, WRONG_AUDIENCE):
        return "401"
    return "allowed" if caller in allowed else "403"


def _meets(expected: str, status: int) -> bool:
    if expected in ("401", "403"):
        return status == int(expected)
    return status not in (401, 403)


def _token(probed: Probed, service: str, caller: str) -> str | None:
    if caller == NO_TOKEN:
        return None
    if caller == WRONG_AUDIENCE:
        return probed.wrong_audience_token(service)
    return probed.token(service, caller)


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_every_role_gets_exactly_what_the_table_allows(probed: Probed, service: str) -> None:
    wrong: list[str] = []
    for caller in (*ROLES, NO_TOKEN, WRONG_AUDIENCE):
        async with probed.client(service, _token(probed, service, caller)) as http:
            for (method, path), allowed in ALLOWED[service].items():
                body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
                response = await http.request(method, probed.path(path), json=body)
                expected = _expectation(allowed, caller)
                if not _meets(expected, response.status_code):
                    wrong.append(
                        f"{caller:>22}: {method} {path} answered {response.status_code}, "
                        f"expected {expected}: {response.text[:120]}"
                    )
    assert wrong == [], f"{service}:\n" + "\n".join(wrong)


def _valid_case_writes(appointment_id: str) -> dict[tuple[str, str], Any]:
    """A body that hub A itself could send, per case-id write: so a 404 is tenancy, not input."""
    start = datetime.now(UTC) + timedelta(days=2)
    past = datetime.now(UTC) - timedelta(hours=1)
    happened = {"occurred_at": (start - timedelta(days=3)).isoformat()}
    return {
        ("POST", "/cases/{case_id}/appointments"): {
            "kind": "initial-assessment",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "delivery_type": "phone-call",
        },
        ("PUT", "/cases/{case_id}/appointments/{appointment_id}/attendance"): {
            "attended": "yes",
            "session_happened": True,
        },
        ("POST", "/cases/{case_id}/appointments/{appointment_id}/reschedule"): {
            "starts_at": (start + timedelta(days=1)).isoformat(),
            "ends_at": (start + timedelta(days=1, hours=1)).isoformat(),
            "requested_by": "service-provider",
        },
        ("POST", "/cases/{case_id}/appointments/{appointment_id}/cancellation"): {
            "reason": "booked-in-error",
        },
        ("PUT", "/cases/{case_id}/appointments/{appointment_id}/rm-appointment"): {
            "rm_appointment_id": str(uuid.uuid4()),
        },
        ("PUT", "/group-sessions/{session_id}/participants/{case_id}/attendance"): {
            "attended": "yes",
            "session_happened": True,
        },
        ("POST", "/group-sessions/{session_id}/participants/{case_id}/cancellation"): {
            "reason": "person-unwell",
        },
        ("POST", "/cases/{case_id}/contacts"): {
            "method": "phone",
            "outcome": "no-answer",
            "occurred_at": past.isoformat(),
        },
        ("POST", "/cases/{case_id}/assessments"): {
            "stage": "baseline",
            "occurred_at": past.isoformat(),
            "areas": [
                {"area": "physical-health", "complexity": "low", "self_score": 5, "staff_score": 5}
            ],
        },
        ("POST", "/cases/{case_id}/consents"): {
            "partner": "Probe Partner",
            "scopes": ["all"],
            "given_at": past.isoformat(),
            "recorded_by": "probe",
        },
        ("POST", "/cases/{case_id}/consents/{consent_id}/withdrawal"): {
            "withdrawn_at": past.isoformat(),
        },
        ("POST", "/cases/{case_id}/onward-referrals"): {
            "agency": "Seed Partner",
            "need": "drugs-and-alcohol",
            "referred_at": past.isoformat(),
        },
        ("PATCH", "/cases/{case_id}/person/contact"): {"phone": "0161 496 0000"},
        ("PUT", "/cases/{case_id}/worker"): {"worker": "caseworker.bury"},
        ("POST", "/cases/{case_id}/notes"): {"text": "Called; no answer."},
        ("POST", "/cases/{case_id}/tasks"): {
            "kind": "next-contact",
            "due_on": (start + timedelta(days=1)).date().isoformat(),
        },
        ("POST", "/cases/{case_id}/tasks/{task_id}/done"): None,
        ("POST", "/cases/{case_id}/exit-survey"): None,
        ("POST", "/cases/{case_id}/exit-survey/declined"): None,
        **{
            ("POST", f"/cases/{{case_id}}/{command}"): happened
            for command in (
                "first-contact",
                "needs-assessment",
                "action-plans/{version}/sharing",
                "action-plans/{version}/approval",
                "sessions-completion",
            )
        },
        ("POST", "/cases/{case_id}/action-plans"): {
            **happened,
            "agreed_by": "caseworker.bolton",
            "number_of_sessions": 4,
            "goals": [{"area": "physical-health", "description": "Register with a GP"}],
            "activities": [{"description": "Go to the surgery together"}],
        },
        ("POST", "/cases/{case_id}/closure"): {**happened, "reason": "declined"},
        ("PUT", "/cases/{case_id}/onward-referrals/{onward_referral_id}/outcome"): {
            "outcome": "accepted"
        },
        ("POST", "/cases/{case_id}/mitigations"): {
            **happened,
            "measure": "DS2",
            "reason": "pop-in-custody",
        },
    }


def _case_id_operations() -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in document("case")["paths"].items()
        if "{case_id}" in path
        for method in operations
        if HUB in ALLOWED["case"][(method.upper(), path)]  # the others refuse hubs outright
    )


async def test_a_hub_cannot_reach_another_hubs_case_by_id(probed: Probed) -> None:
    case_a, appointment_a = probed.seeded.cases[HUB_A], probed.seeded.appointments[HUB_A]
    consent_a = probed.seeded.consents[HUB_A]
    bodies = _valid_case_writes(appointment_a)
    owner = probed.client("case", probed.token("case", HUB, HUB_A))
    intruder = probed.client("case", probed.token("case", HUB, HUB_B))
    async with owner, intruder:
        before = (await owner.get(f"/cases/{case_a}")).json()
        answers = {}
        for method, path in _case_id_operations():
            assert method == "GET" or (method, path) in bodies, f"no valid body for {path}"
            url = path.format(
                case_id=case_a,
                appointment_id=appointment_a,
                consent_id=consent_a,
                task_id=uuid.uuid4(),
                onward_referral_id=uuid.uuid4(),
                session_id=uuid.uuid4(),
                version=1,
            )
            response = await intruder.request(method, url, json=bodies.get((method, path)))
            answers[f"{method} {path}"] = response.status_code
        after = (await owner.get(f"/cases/{case_a}")).json()
    assert len(answers) >= 3
    assert set(answers.values()) == {404}, answers
    assert after == before
