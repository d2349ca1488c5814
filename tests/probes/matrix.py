"""Who may call what: ONE table over every operation of the exported OpenAPI documents.

`ALLOWED[service][("METHOD", "/path")]` names the roles that may call the operation, or PUBLIC
for the probes and SNS pushes (no token; SNS deliveries carry a signature instead). The
authorisation matrix and the fuzzer both read it, and a test fails if an operation of a document
has no row here (or a row names an operation that no longer exists).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx

from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.services import RunningService
from gmirs_stack.config import SERVICES
from gmirs_stack.openapi import target

HUB, LEAD, COMMISSIONER, OPERATOR, PROBATION = (
    "hub",
    "lead-provider",
    "commissioner",
    "operator",
    "probation-system",
)
ROLES: Final = (HUB, LEAD, COMMISSIONER, OPERATOR, PROBATION)
HUB_A, HUB_B = "bolton", "bury"  # each has a case with an appointment
PUBLIC: Final = frozenset({"(public)"})
Operation = tuple[str, str]  # ("GET", "/cases/{case_id}")

_PROBES: dict[Operation, frozenset[str]] = {("GET", "/health"): PUBLIC, ("GET", "/ready"): PUBLIC}
_DEAD_LETTERS: dict[Operation, frozenset[str]] = {
    ("GET", "/operator/dead-letters"): frozenset({OPERATOR}),
    ("POST", "/operator/dead-letters/{topic}/{partition}/{offset}/replay"): frozenset({OPERATOR}),
    ("POST", "/operator/dead-letters/{topic}/{partition}/{offset}/view"): frozenset({OPERATOR}),
}
_PARKED_OUTBOX: dict[Operation, frozenset[str]] = {
    ("GET", "/operator/outbox"): frozenset({OPERATOR}),
    ("POST", "/operator/outbox/{row_id}/retry"): frozenset({OPERATOR}),
    ("POST", "/operator/outbox/{row_id}/discard"): frozenset({OPERATOR}),
}
_EVERY_SERVICE = {**_PROBES, **_DEAD_LETTERS, **_PARKED_OUTBOX}

ALLOWED: Final[dict[str, dict[Operation, frozenset[str]]]] = {
    "referral-intake": {
        **_EVERY_SERVICE,
        ("POST", "/referrals"): frozenset({LEAD}),
        ("GET", "/referrals/{referral_id}"): frozenset({LEAD}),
        ("POST", "/rm/events"): frozenset({OPERATOR, LEAD}),
        ("POST", "/rm/sns"): PUBLIC,
        ("GET", "/operator/pending"): frozenset({OPERATOR}),
        ("GET", "/operator/quarantine"): frozenset({OPERATOR}),
        ("POST", "/operator/quarantine/{message_id}/discard"): frozenset({OPERATOR}),
        ("POST", "/operator/quarantine/{message_id}/replay"): frozenset({OPERATOR}),
        ("POST", "/operator/quarantine/{message_id}/view"): frozenset({OPERATOR}),
    },
    "case": {
        **_EVERY_SERVICE,
        ("GET", "/cases"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/appointments"): frozenset({HUB, LEAD}),
        ("PUT", "/cases/{case_id}/appointments/{appointment_id}/attendance"): frozenset(
            {HUB, LEAD}
        ),
        ("GET", "/cases/{case_id}/appointments/{appointment_id}"): frozenset({HUB, LEAD}),
        **{
            (method, f"/cases/{{case_id}}/appointments/{{appointment_id}}/{change}"): frozenset(
                {HUB, LEAD}
            )
            for method, change in (
                ("POST", "reschedule"),
                ("POST", "cancellation"),
                ("PUT", "rm-appointment"),
            )
        },
        ("POST", "/group-sessions"): frozenset({HUB, LEAD}),
        ("GET", "/group-sessions"): frozenset({HUB, LEAD}),
        ("GET", "/group-sessions/{session_id}"): frozenset({HUB, LEAD}),
        ("POST", "/group-sessions/{session_id}/participants"): frozenset({HUB, LEAD}),
        ("POST", "/group-sessions/{session_id}/reschedule"): frozenset({HUB, LEAD}),
        ("POST", "/group-sessions/{session_id}/cancellation"): frozenset({HUB, LEAD}),
        ("PUT", "/group-sessions/{session_id}/participants/{case_id}/attendance"): frozenset(
            {HUB, LEAD}
        ),
        ("POST", "/group-sessions/{session_id}/participants/{case_id}/cancellation"): frozenset(
            {HUB, LEAD}
        ),
        ("POST", "/cases/{case_id}/contacts"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/contacts"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/mitigations"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/mitigations"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/assessments"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/distance-travelled"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/consents"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/consents"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/consents/{consent_id}/withdrawal"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/onward-referrals"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/onward-referrals"): frozenset({HUB, LEAD}),
        ("PUT", "/cases/{case_id}/onward-referrals/{onward_referral_id}/outcome"): frozenset(
            {HUB, LEAD}
        ),
        ("GET", "/cases/{case_id}/person"): frozenset({HUB, LEAD}),
        ("PATCH", "/cases/{case_id}/person/contact"): frozenset({HUB, LEAD}),
        ("PUT", "/cases/{case_id}/worker"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/notes"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/notes"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/tasks"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/tasks/{task_id}/done"): frozenset({HUB, LEAD}),
        ("GET", "/tasks"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/exit-survey"): frozenset({HUB, LEAD}),
        ("POST", "/cases/{case_id}/exit-survey/declined"): frozenset({HUB, LEAD}),
        ("GET", "/exit-survey/static/survey.css"): PUBLIC,
        ("GET", "/exit-survey/{token}"): PUBLIC,
        ("POST", "/exit-survey/{token}"): PUBLIC,
        **{
            ("POST", f"/cases/{{case_id}}/{command}"): frozenset({HUB, LEAD})
            for command in (
                "first-contact",
                "needs-assessment",
                "action-plans",
                "action-plans/{version}/sharing",
                "action-plans/{version}/approval",
                "sessions-completion",
                "closure",
            )
        },
        ("POST", "/cases/{case_id}/reallocation"): frozenset({LEAD}),
        ("POST", "/evidence-requests"): frozenset({COMMISSIONER}),
        ("GET", "/evidence-requests"): frozenset({COMMISSIONER, HUB, LEAD}),
        ("GET", "/evidence-requests/{request_id}"): frozenset({COMMISSIONER, HUB, LEAD}),
        ("POST", "/evidence-requests/{request_id}/answer"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/action-plans"): frozenset({HUB, LEAD}),
        ("GET", "/cases/{case_id}/action-plans/{version}"): frozenset({HUB, LEAD}),
    },
    "metrics": {
        **_EVERY_SERVICE,
        ("GET", "/kpis/referrals-by-borough"): frozenset({COMMISSIONER, LEAD, OPERATOR}),
        # metricsdash: provider activity and the dashboard
        ("PUT", "/activity/{month}/{hub_id}/{measure}"): frozenset({HUB, LEAD}),
        ("GET", "/activity"): frozenset({HUB, LEAD, COMMISSIONER, OPERATOR}),
        ("GET", "/dashboard"): frozenset({COMMISSIONER, LEAD}),
        ("GET", "/dashboard/static/dashboard.css"): frozenset({COMMISSIONER, LEAD}),
        # metricspack: the monthly pack and the commissioner's case-level extract
        **{
            ("GET", f"/packs/{{month}}.{fmt}"): frozenset({COMMISSIONER, LEAD, OPERATOR})
            for fmt in ("xlsx", "csv", "json")
        },
        ("GET", "/extracts/cases.csv"): frozenset({COMMISSIONER}),
    },
    "notify": {
        **_EVERY_SERVICE,
        ("GET", "/deliveries"): frozenset({OPERATOR}),
        ("GET", "/operator/reports"): frozenset({OPERATOR}),
        ("POST", "/operator/reports/{report_id}/retry"): frozenset({OPERATOR}),
        ("GET", "/operator/attendance-watches"): frozenset({OPERATOR}),
        ("GET", "/hubs/{hub_id}/manual-entries"): frozenset({HUB, LEAD}),
        ("POST", "/manual-entries/{report_id}/done"): frozenset({HUB, LEAD}),
        ("GET", "/subscriptions"): frozenset({OPERATOR, PROBATION}),
        ("POST", "/subscriptions"): frozenset({OPERATOR, PROBATION}),
        ("GET", "/subscriptions/{subscription_id}"): frozenset({OPERATOR, PROBATION}),
        ("DELETE", "/subscriptions/{subscription_id}"): frozenset({OPERATOR, PROBATION}),
        ("POST", "/subscriptions/{subscription_id}/rotate-secret"): frozenset(
            {OPERATOR, PROBATION}
        ),
        ("POST", "/subscriptions/{subscription_id}/retire-previous-secret"): frozenset(
            {OPERATOR, PROBATION}
        ),
        ("POST", "/subscriptions/{subscription_id}/ping"): frozenset({OPERATOR, PROBATION}),
        ("POST", "/subscriptions/{subscription_id}/disable"): frozenset({OPERATOR, PROBATION}),
        ("POST", "/subscriptions/{subscription_id}/enable"): frozenset({OPERATOR, PROBATION}),
        ("GET", "/subscriptions/{subscription_id}/deliveries"): frozenset({OPERATOR, PROBATION}),
        ("POST", "/deliveries/{delivery_id}/redelivery"): frozenset({OPERATOR, PROBATION}),
    },
}


def document(service: str) -> dict[str, Any]:
    """The committed (exported) OpenAPI document of `service`."""
    loaded: dict[str, Any] = json.loads(target(service).read_text())
    return loaded


def documented_operations(service: str) -> set[Operation]:
    return {
        (method.upper(), path)
        for path, operations in document(service)["paths"].items()
        for method in operations
    }


SERVICE_NAMES: Final = tuple(spec.name for spec in SERVICES)


@dataclass(frozen=True)
class Seeded:
    """Resources created through the APIs before probing: per hub, a case with an appointment
    and a consent."""

    cases: dict[str, str]
    appointments: dict[str, str]
    subscription: str
    consents: dict[str, str]


@dataclass(frozen=True)
class Probed:
    services: dict[str, RunningService]
    issuer: TestIssuer
    seeded: Seeded

    def token(self, service: str, role: str, hub: str = "bolton") -> str:
        """A real token for one role on `service` (hubs carry their hub claim)."""
        claims = {"hub_id": hub} if role == HUB else None
        client = f"hub-{hub}" if role == HUB else f"probe-{role}"
        return self.issuer.mint(client, [role], self.services[service].audience, claims)

    def wrong_audience_token(self, service: str) -> str:
        """An operator's token (every role) minted for another API than `service`."""
        other = next(s for s in SERVICE_NAMES if s != service)
        return self.issuer.mint(
            "probe-elsewhere", list(ROLES), self.services[other].audience, {"hub_id": "bolton"}
        )

    def path(self, template: str) -> str:
        """The path with hub A's seeded case and appointment, made-up ids for everything else
        (allowed callers then get 404, and nothing changes)."""
        values = {
            "case_id": self.seeded.cases[HUB_A],
            "appointment_id": self.seeded.appointments[HUB_A],
            "consent_id": self.seeded.consents[HUB_A],
            "topic": "probe-topic",
            "partition": "0",
            "offset": "0",
            "row_id": "9007199254740993",  # no such parked outbox row
            "token": "no-such-exit-survey-link",
            "version": "1",
            "hub_id": HUB_A,
            "month": "2026-11",  # metricsdash: a reportable month
            "measure": "volunteers",
        }
        made_up = (
            "referral_id",
            "message_id",
            "subscription_id",
            "task_id",
            "report_id",
            "delivery_id",
        )
        for name in (*made_up, "onward_referral_id", "request_id", "session_id"):
            values[name] = str(uuid.uuid4())
        return template.format(**values)

    def client(self, service: str, token: str | None) -> httpx.AsyncClient:
        return self.services[service].client(token)


def every_operation() -> Iterator[tuple[str, str, str]]:
    """(service, method, path) of every row of the table."""
    for service, rows in ALLOWED.items():
        for method, path in rows:
            yield service, method, path
