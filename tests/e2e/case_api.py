"""The case API as a hub's client calls it in end-to-end tests: one function per route.

Routes change (versions, idempotency keys, If-Match): each is built in exactly one place here, so
a change to one is a one-line edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.platform import Platform


@dataclass(frozen=True)
class HubCase:
    """One case as its hub's client sees it."""

    platform: Platform
    hub_id: str
    case_id: str

    async def send(self, method: str, path: str, body: Any, expected: int) -> dict[str, Any]:
        response = await self.platform.call(
            f"hub-{self.hub_id}", method, "case", f"/cases/{self.case_id}{path}", json=body
        )
        assert response.status_code == expected, f"{method} {path}: {response.text}"
        return {} if expected == 204 else dict(response.json())


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _happened() -> dict[str, str]:
    return {"occurred_at": _now()}


async def read_case(case: HubCase) -> dict[str, Any]:
    return await case.send("GET", "", None, 200)


async def record_first_contact(case: HubCase) -> dict[str, Any]:
    return await case.send("POST", "/first-contact", _happened(), 200)


async def book_appointment(
    case: HubCase, kind: str, starts_at: datetime, session_number: int | None = None
) -> dict[str, Any]:
    body = {
        "kind": kind,
        "session_number": session_number,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=1)).isoformat(),
        "delivery_type": "in-person-probation-office",
        "nps_office_code": "CRS0105",
    }
    return await case.send("POST", "/appointments", body, 201)


async def record_attendance(case: HubCase, appointment_id: str, attended: bool) -> dict[str, Any]:
    body = (
        {"attended": "yes", "session_happened": True}
        if attended
        else {"attended": "no", "session_happened": False, "notify_pp_of_concerns": True}
    )
    return await case.send("PUT", f"/appointments/{appointment_id}/attendance", body, 200)


async def record_baseline_assessment(case: HubCase) -> dict[str, Any]:
    area = {"area": "emotional-and-mental-health", "complexity": "medium"}
    body = {
        **_happened(),
        "stage": "baseline",
        "areas": [{**area, "self_score": 3, "staff_score": 4}],
    }
    return await case.send("POST", "/assessments", body, 201)


async def record_needs_assessed(case: HubCase) -> dict[str, Any]:
    return await case.send("POST", "/needs-assessment", _happened(), 200)


async def agree_action_plan(case: HubCase, sessions: int) -> dict[str, Any]:
    """The next version (case numbers it), with the version and the case's lifecycle after it."""
    body = {
        **_happened(),
        "agreed_by": f"caseworker.{case.hub_id}",
        "number_of_sessions": sessions,
        "goals": [{"area": "emotional-and-mental-health", "description": "Sleep better"}],
        "activities": [{"description": "Weekly check-in", "area": "emotional-and-mental-health"}],
    }
    return await case.send("POST", "/action-plans", body, 201)


async def share_action_plan(case: HubCase, version: int) -> dict[str, Any]:
    return await case.send("POST", f"/action-plans/{version}/sharing", _happened(), 200)


async def complete_sessions(case: HubCase) -> dict[str, Any]:
    return await case.send("POST", "/sessions-completion", _happened(), 200)


async def offer_exit_survey(case: HubCase) -> str:
    """Ask for the person's survey link, which is the offer; the link's path on case."""
    link = await case.send("POST", "/exit-survey", None, 201)
    case.platform.handed_secrets.add(str(link["link"]).rsplit("/", 1)[-1])
    return str(link["link"])


async def close_case(case: HubCase, reason: str) -> dict[str, Any]:
    return await case.send("POST", "/closure", {**_happened(), "reason": reason}, 200)
