"""Non-attendance through notify as the end-to-end fault tests see it: one R&M referral's case
whose hub books sessions it also has in R&M, the reports notify keeps, what R&M received and
what each probation receiver was sent.

R&M's fault controls are scoped to one R&M appointment's path, and receivers subscribe to one
hub only, so nothing here reaches another test's data; every wait is bounded.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gmirs_runtime.testing.kafka import eventually, read_topic
from gmirs_stack.stack import RM_CLIENT_ID
from tests.e2e.case_api import HubCase, book_appointment, record_attendance
from tests.e2e.platform import Platform, data_of, database_rows, event_type
from tests.e2e.rm import rm_control

NOTIFY = "notify.delivery-events.v1"
ACKNOWLEDGED = "gmirs.notify.report-acknowledged.v1"
REPORT_COLUMNS = (
    "id, origin, acknowledged_at, acknowledged_channel, escalated_at, escalation_cause,"
    " escalation_detail"
)


@dataclass
class Receiver:
    """A probation system's webhook endpoint (a fake, as a real process) subscribed to notify."""

    url: str
    subscription_id: str = ""

    async def deliveries(self, appointment_id: str) -> list[dict[str, Any]]:
        """Every request it received about one appointment (retries and duplicates included)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            received = (await http.get("/_control/deliveries")).json()
        return [
            d
            for d in received
            if d["body"]["data"]["appointment"]["appointment_id"] == appointment_id
        ]

    async def behave(self, **behaviour: Any) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            response = await http.post("/_control/behaviour", json=behaviour)
            assert response.status_code == 200, response.text

    async def got_once(self, appointment_id: str) -> bool:
        """Accepted, under one `webhook-id` (however many times it was sent)."""
        found = await self.deliveries(appointment_id)
        return any(d["accepted"] for d in found) and len({d["webhook_id"] for d in found}) == 1


@dataclass(frozen=True)
class Missed:
    """A session the hub booked, linked to R&M's appointment for it, then recorded as missed."""

    appointment_id: str
    rm_appointment_id: str
    session_number: int


@dataclass
class RmCase:
    """One R&M referral's case at its hub, booking sessions numbered from 1."""

    platform: Platform
    rm_id: str
    case: HubCase
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def session_in_rm(self, *, rm_in_future: bool = False) -> Missed:
        """A session booked at the hub and in R&M (an hour long, two hours ago), linked; R&M's
        one `rm_in_future` is tomorrow instead (R&M then refuses feedback for it)."""
        number = next(self.numbers)
        starts = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
        rm_time = starts + timedelta(days=1) if rm_in_future else starts
        scheduled = await rm_control(
            self.platform,
            f"/_control/referrals/{self.rm_id}/sessions/{number}/schedule",
            {"appointment_time": rm_time.isoformat(), "duration_minutes": 60},
        )
        booked = await book_appointment(self.case, "session", starts, session_number=number)
        link = {"rm_appointment_id": scheduled["appointment_id"]}
        await self.case.send("PUT", f"/appointments/{booked['id']}/rm-appointment", link, 200)
        return Missed(str(booked["id"]), str(scheduled["appointment_id"]), number)

    async def missed(self, *, rm_in_future: bool = False) -> Missed:
        """A linked session the hub records as not attended (concerns for the practitioner)."""
        session = await self.session_in_rm(rm_in_future=rm_in_future)
        await record_missed(self, session)
        return session

    async def missed_in_rm(self) -> str:
        """A session R&M's provider recorded as missed in R&M itself; R&M's appointment id."""
        number = next(self.numbers)
        body = {"attended": "no", "channels": ["sns"]}
        recorded = await rm_control(
            self.platform, f"/_control/referrals/{self.rm_id}/sessions/{number}", body
        )
        return str(recorded["appointment_id"])


async def record_missed(rm_case: RmCase, session: Missed) -> None:
    recorded = await record_attendance(rm_case.case, session.appointment_id, attended=False)
    assert recorded["attendance"]["non_attendance"] is True


# --- What notify holds. ---


async def report_of(platform: Platform, appointment_id: str) -> dict[str, Any] | None:
    rows = await database_rows(
        platform,
        f"SELECT {REPORT_COLUMNS} FROM notify.reports WHERE appointment_id = '{appointment_id}'",
    )
    assert len(rows) <= 1  # unique on (case, appointment)
    names = [c.strip() for c in REPORT_COLUMNS.split(",")]
    return dict(zip(names, rows[0], strict=True)) if rows else None


async def report_when(
    platform: Platform, appointment_id: str, wanted: str, timeout: float = 30
) -> dict[str, Any]:
    """The appointment's report once it is `acknowledged` or `escalated` (bounded wait)."""
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await report_of(platform, appointment_id) or {})
        return seen.get(f"{wanted}_at") is not None

    await eventually(reached, timeout=timeout, what=f"report of {appointment_id} {wanted}")
    return seen


async def write_back_of(platform: Platform, report_id: str) -> dict[str, Any]:
    rows = await database_rows(
        platform,
        "SELECT step, tries, last_status, last_reason FROM notify.rm_writebacks"
        f" WHERE report_id = '{report_id}'",
    )
    assert len(rows) == 1, rows
    return dict(zip(("step", "tries", "last_status", "last_reason"), rows[0], strict=True))


async def write_backs_of(platform: Platform, appointment_id: str) -> int:
    rows = await database_rows(
        platform,
        "SELECT count(*) FROM notify.rm_writebacks w JOIN notify.reports r ON r.id = w.report_id"
        f" WHERE r.appointment_id = '{appointment_id}'",
    )
    return int(rows[0][0])


async def acknowledged_events(platform: Platform, appointment_id: str) -> int:
    """`report-acknowledged` events about the appointment (distinct ids), once one is out."""
    await platform.records(
        NOTIFY,
        lambda r: event_type(r) == ACKNOWLEDGED and data_of(r)["appointment_id"] == appointment_id,
    )
    records = await read_topic(platform.stack.broker.bootstrap, NOTIFY)
    return len(
        {
            dict(r.headers)["ce_id"]
            for r in records
            if event_type(r) == ACKNOWLEDGED and data_of(r)["appointment_id"] == appointment_id
        }
    )


# --- What R&M received. ---


async def rm_calls(platform: Platform, rm_appointment_id: str) -> list[tuple[str, str, int]]:
    """R&M's log of the feedback calls for one appointment: (method, last path part, status)."""
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=10) as http:
        answered = (await http.get("/_control/requests")).json()
    return [
        (r["method"], r["path"].rsplit("/", 1)[-1], r["status"])
        for r in answered
        if f"/delivery-session-appointments/{rm_appointment_id}/" in r["path"]
    ]


async def rm_accepted(platform: Platform, rm_appointment_id: str) -> list[tuple[str, str]]:
    """The steps R&M accepted for one appointment, each once, in order: its received updates.
    (A draft step sent again after notify gave up on a slow answer is R&M's idempotent PUT;
    submissions are counted by `submits_accepted`.)"""
    calls = await rm_calls(platform, rm_appointment_id)
    return list(dict.fromkeys((method, step) for method, step, status in calls if status == 200))


async def submits_accepted(platform: Platform, rm_appointment_id: str) -> int:
    """How many times R&M accepted this appointment's feedback (its received updates)."""
    calls = Counter(await rm_calls(platform, rm_appointment_id))
    return calls[("POST", "submit-feedback", 200)]


async def rm_faults(platform: Platform, **faults: Any) -> None:
    await rm_control(platform, "/_control/faults", faults)


async def rm_stats(platform: Platform) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=10) as http:
        stats: dict[str, Any] = (await http.get("/_control/stats")).json()
        return stats


async def rm_api(
    platform: Platform,
    method: str,
    path: str,
    *,
    username: str | None = None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """A call to R&M's API with the platform's client credentials: a bare client token, or a
    token for `username` (HMPPS Auth's client-credentials grant with a username)."""
    form = {"grant_type": "client_credentials"} | ({"username": username} if username else {})
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=10) as http:
        token = await http.post(
            "/auth/oauth/token", data=form, auth=(RM_CLIENT_ID, platform.stack.rm_secret)
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return await http.request(method, path, headers=headers, json=body)


async def rm_session(platform: Platform, rm_id: str, number: int) -> dict[str, Any]:
    """R&M's delivery session as its API shows it."""
    response = await rm_api(platform, "GET", f"/referral/{rm_id}/sessions/{number}")
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


async def attempts_of(
    platform: Platform, report_id: str, channel: str = "rm_writeback"
) -> list[tuple[str, str | None]]:
    """The report's attempts on one channel, in order: (result, detail)."""
    rows = await database_rows(
        platform,
        "SELECT result, detail FROM notify.report_attempts"
        f" WHERE report_id = '{report_id}' AND channel = '{channel}' ORDER BY seq",
    )
    return [(str(result), detail) for result, detail in rows]


async def deliveries_of(platform: Platform, appointment_id: str) -> dict[str, tuple[Any, ...]]:
    """notify's deliveries about one appointment by endpoint URL: (status, attempts, reason)."""
    rows = await database_rows(
        platform,
        "SELECT s.url, d.status, d.attempts, d.failure_reason FROM notify.deliveries d"
        " JOIN notify.subscriptions s ON s.id = d.subscription_id"
        f" WHERE d.appointment_id = '{appointment_id}'",
    )
    assert len({row[0] for row in rows}) == len(rows), rows  # one per endpoint
    return {str(row[0]): tuple(row[1:]) for row in rows}
