"""Valid example writes of the case API, one per operation id, for test_write_safety.

Each example says how to make a fresh case ready for the write (through the API, as a hub or
a commissioner would), its n-th body, who calls it and where the case ETag it moves is read
(None for a write that changes no case: an evidence request). `write_operations` reads the
writes from the exported OpenAPI document; `example_of` fails for one without an example.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from gmirs_stack.openapi import target

HUB = "bolton"
WRITES = ("post", "put", "patch", "delete")
REPEATS = 8
"""Each write path is sent this many times more on one connection."""
NOT_CASE_ROUTES = {
    ("POST", "/exit-survey/{token}"): "a browser form with a single-use link (no headers of ours)",
}
"""Writes outside `case_router`, and why (the /operator/ routes are the runtime's, everywhere)."""

Params = dict[str, str]
Prepare = Callable[..., Awaitable[Params]]
"""Makes a fresh case ready for a write: (client, case id, *other fresh case ids) -> path params."""


def moment(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


async def ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answered = await response
    assert answered.is_success, answered.text
    return answered.json() if answered.content else {}


def slot(kind: str, hours_ago: float) -> dict[str, str]:
    return {
        "kind": kind,
        "starts_at": moment(hours_ago * 60),
        "ends_at": moment(hours_ago * 60 - 30),
        "delivery_type": "phone-call",
    }


async def allocated(http: httpx.AsyncClient, case: str) -> Params:
    return {}


async def contacted(http: httpx.AsyncClient, case: str) -> Params:
    await ok(http.post(f"/cases/{case}/first-contact", json={"occurred_at": moment(600)}))
    return {}


async def assessment_attended(http: httpx.AsyncClient, case: str) -> Params:
    await contacted(http, case)
    return await attended(http, case, "initial-assessment", 9)


async def attended(http: httpx.AsyncClient, case: str, kind: str, hours_ago: float) -> Params:
    booked = await ok(http.post(f"/cases/{case}/appointments", json=slot(kind, hours_ago)))
    attendance = {"attended": "yes", "session_happened": True}
    await ok(http.put(f"/cases/{case}/appointments/{booked['id']}/attendance", json=attendance))
    return {}


async def needs_assessed(http: httpx.AsyncClient, case: str) -> Params:
    await assessment_attended(http, case)
    await ok(http.post(f"/cases/{case}/needs-assessment", json={"occurred_at": moment(400)}))
    return {}


def plan_body(occurred_at: str, sessions: int) -> dict[str, Any]:
    """An action plan version as agreed with the person (the platform numbers it)."""
    return {
        "occurred_at": occurred_at,
        "agreed_by": "jo.worker",
        "number_of_sessions": sessions,
        "goals": [{"area": "finance-and-benefits", "description": "Open a bank account."}],
        "activities": [{"description": "Visit the bank together.", "area": "finance-and-benefits"}],
    }


async def plan_agreed(http: httpx.AsyncClient, case: str) -> Params:
    await needs_assessed(http, case)
    made = await ok(http.post(f"/cases/{case}/action-plans", json=plan_body(moment(300), 4)))
    assert made["version"] == 1, made
    return {"version": "1"}


async def plan_shared(http: httpx.AsyncClient, case: str) -> Params:
    params = await plan_agreed(http, case)
    await ok(http.post(f"/cases/{case}/action-plans/1/sharing", json={"occurred_at": moment(200)}))
    return params


async def in_sessions(http: httpx.AsyncClient, case: str) -> Params:
    await plan_shared(http, case)
    return await attended(http, case, "session", 3)


async def sessions_completed(http: httpx.AsyncClient, case: str) -> Params:
    await in_sessions(http, case)
    await ok(http.post(f"/cases/{case}/sessions-completion", json={"occurred_at": moment(60)}))
    return {}


async def session_booked(http: httpx.AsyncClient, case: str) -> Params:
    booked = await ok(http.post(f"/cases/{case}/appointments", json=slot("session", 2)))
    return {"appointment_id": booked["id"]}


AGENCY = "Bolton Money Advice"
CONSENT = {"scopes": ["all"], "given_at": moment(60 * 24), "recorded_by": "Jo Worker"}


async def consent_given(http: httpx.AsyncClient, case: str) -> Params:
    given = await ok(http.post(f"/cases/{case}/consents", json={**CONSENT, "partner": AGENCY}))
    return {"consent_id": given["id"]}


async def onward_referral_made(http: httpx.AsyncClient, case: str) -> Params:
    await consent_given(http, case)
    referral = {"agency": AGENCY, "need": "finance-and-benefits", "referred_at": moment(60)}
    made = await ok(http.post(f"/cases/{case}/onward-referrals", json=referral))
    return {"onward_referral_id": made["id"]}


async def task_set(http: httpx.AsyncClient, case: str) -> Params:
    due = str(date.today() + timedelta(days=3))
    made = await ok(http.post(f"/cases/{case}/tasks", json={"kind": "review", "due_on": due}))
    return {"task_id": made["id"]}


def moved(n: int, _: Params) -> dict[str, Any]:
    """A new time an hour long, `n` hours ahead, asked for by the person."""
    return {
        "starts_at": moment(-60 * (24 + n)),
        "ends_at": moment(-60 * (24 + n) - 60),
        "requested_by": "person-on-probation",
        "reason": f"Clashes with work ({n}).",
    }


def called_off(n: int, _: Params) -> dict[str, Any]:
    return {"reason": ["person-requested", "person-unwell"][n % 2]}


def group_session(hours_ago: float, *cases: str) -> dict[str, Any]:
    """A group session of HUB at a probation office, with `cases` on its register."""
    return {
        "session_type": "group",
        "starts_at": moment(hours_ago * 60),
        "ends_at": moment(hours_ago * 60 - 90),
        "delivery_type": "in-person-probation-office",
        "nps_office_code": "CRS0105",
        "participants": [{"case_id": case, "session_number": 1} for case in cases],
    }


async def on_a_session(http: httpx.AsyncClient, case: str) -> Params:
    """The case on the register of a group session held two hours ago."""
    planned = await ok(http.post("/group-sessions", json=group_session(2, case)))
    return {"session_id": planned["id"]}


async def session_with_another(http: httpx.AsyncClient, case: str, other: str) -> Params:
    """A group session with another case of the hub on its register (not this one)."""
    return await on_a_session(http, other)


async def evidence_asked(http: httpx.AsyncClient, case: str) -> Params:
    """A commissioner's evidence request about the case (so addressed to the case's hub)."""
    asked = await ok(http.post("/evidence-requests", json=evidence_request(0, {"case_id": case})))
    return {"request_id": asked["id"]}


def evidence_request(n: int, params: Params) -> dict[str, Any]:
    return {"asked": f"The KP6 evidence for the case ({n}).", "case_id": params["case_id"]}


Body = Callable[[int, Params], dict[str, Any] | None]
"""The n-th body of a write, given the parameters of its path (the case's id among them)."""


def happened(n: int, _: Params) -> dict[str, Any]:
    return {"occurred_at": moment(30 + n)}


def no_body(n: int, _: Params) -> None:
    return None


def area(n: int) -> dict[str, Any]:
    scores = {"self_score": 3 + n, "staff_score": 2, "complexity": "high"}
    return {"area": "finance-and-benefits", **scores}


@dataclass(frozen=True)
class Example:
    """A write that succeeds on a fresh case once `prepare` has run: its n-th body (0 and 1
    differ; None: the operation takes none), who calls it, and where its ETag is read."""

    body: Body
    prepare: Prepare = allocated
    role: str = "hub"
    etag_at: str | None = "/cases/{case_id}"
    """Where the case's ETag is read, which the write moves; None: it changes no case."""
    answer_is_secret: bool = False  # no-store: the answer is not kept, so not replayed
    prepared_by: str = "hub"
    other_cases: int = 0
    """How many more fresh cases `prepare` takes (after the one the write is on)."""


EXAMPLES: dict[str, Example] = {
    "create_appointment": Example(lambda n, _: slot("session", 5 + n)),
    "put_attendance": Example(
        lambda n, _: {"attended": ["yes", "no"][n % 2], "session_happened": n % 2 == 0},
        session_booked,
    ),
    "first-contact": Example(happened),
    "needs-assessment": Example(happened, assessment_attended),
    "agree_action_plan": Example(lambda n, _: plan_body(moment(30 + n), 4 + n), needs_assessed),
    "share_action_plan": Example(happened, plan_agreed),
    "record_action_plan_approval": Example(happened, plan_shared),
    "complete_sessions": Example(
        lambda n, _: {
            **happened(n, _),
            "outcomes": {"achieved": 1 + n, "partially_achieved": 1, "not_achieved": 0},
        },
        in_sessions,
    ),
    "close_case": Example(
        lambda n, _: {**happened(n, _), "reason": ["disengaged", "declined"][n % 2]}
    ),
    "reallocate_case": Example(lambda n, _: {"hub_id": ["bury", "wigan"][n % 2]}, role="lead"),
    "create_contact": Example(
        lambda n, _: {"method": "phone", "outcome": "no-answer", "occurred_at": moment(30 + n)}
    ),
    "create_assessment": Example(
        lambda n, _: {"stage": "baseline", "occurred_at": moment(30), "areas": [area(n)]}
    ),
    "create_consent": Example(lambda n, _: {**CONSENT, "partner": f"Partner {n}"}),
    "withdraw_consent": Example(lambda n, _: {"withdrawn_at": moment(30 + n)}, consent_given),
    "create_onward_referral": Example(
        lambda n, _: {
            "agency": AGENCY,
            "need": "finance-and-benefits",
            "referred_at": moment(30 + n),
        },
        consent_given,
    ),
    "put_onward_outcome": Example(
        lambda n, _: {"outcome": ["accepted", "declined"][n % 2]}, onward_referral_made
    ),
    "create_mitigation": Example(
        lambda n, _: {
            "measure": ["DS2", "KP6"][n % 2],
            "reason": "pop-unwell",
            "occurred_at": moment(30),
        }
    ),
    "post_note": Example(lambda n, _: {"text": f"Spoke to the person ({n}).", "sensitive": False}),
    "post_task": Example(
        lambda n, _: {"kind": "next-contact", "due_on": str(date.today() + timedelta(days=1 + n))}
    ),
    "post_task_done": Example(no_body, task_set),
    "put_worker": Example(lambda n, _: {"worker": f"caseworker.{n}"}),
    "patch_contact": Example(
        lambda n, _: {"phone": f"0161 496 000{n}"}, etag_at="/cases/{case_id}/person"
    ),
    "offer_exit_survey_link": Example(no_body, sessions_completed, answer_is_secret=True),
    "record_exit_survey_declined": Example(no_body),
    "reschedule": Example(moved, session_booked),
    "cancel": Example(called_off, session_booked),
    "link_to_rm": Example(
        lambda n, p: {"rm_appointment_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{p}/{n}"))},
        session_booked,
    ),
    "create_group_session": Example(lambda n, p: group_session(5 + n, p["case_id"])),
    "add_to_register": Example(
        lambda n, p: {"case_id": p["case_id"], "session_number": 1 + n},
        session_with_another,
        other_cases=1,
    ),
    "reschedule_group_session": Example(moved, on_a_session),
    "cancel_group_session": Example(called_off, on_a_session),
    "cancel_place": Example(called_off, on_a_session),
    "record_register_attendance": Example(
        lambda n, _: {"attended": ["yes", "no"][n % 2], "session_happened": n % 2 == 0},
        on_a_session,
    ),
    "raise_request": Example(evidence_request, role="commissioner", etag_at=None),
    "answer_request": Example(
        lambda n, _: {"answer": f"Sent to the commissioner's inbox ({n})."},
        evidence_asked,
        prepared_by="commissioner",
        etag_at=None,
    ),
}
"""A valid example per operation id: every write of the document needs one."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str

    @property
    def on_a_case(self) -> bool:
        """Whether `case_router` guards it with the case's If-Match (a case in its path)."""
        return "{case_id}" in self.path


def write_operations() -> list[Operation]:
    """Every write of the exported case API but the operator routes and NOT_CASE_ROUTES."""
    document = json.loads(target("case").read_text())
    return [
        Operation(method.upper(), path, operation["operationId"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in WRITES
        and not path.startswith("/operator/")
        and (method.upper(), path) not in NOT_CASE_ROUTES
    ]


def example_of(operation: Operation) -> Example:
    example = EXAMPLES.get(operation.operation_id)
    assert example is not None, (
        f"{operation.method} {operation.path} ({operation.operation_id}) has no example in"
        " EXAMPLES: add a valid body so its write safety is checked"
    )
    return example
