"""Non-attendance through notify as the end-to-end fault tests see it: one R&M referral's case
whose hub books sessions it also has in R&M, the reports notify keeps, what R&M received and
what each probation receiver was sent.

R&M's fault controls are scoped to one R&M appointment's path, and receivers subscribe to one
hub only, so nothing here reaches another test's data; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gmirs_runtime.testing.kafka import eventually, read_topic
from tests.e2e.case_api import HubCase, book_appointment, read_case, record_attendance
from tests.e2e.platform import Platform, caught_up, data_of, database_rows, event_type
from tests.e2e.rm import CASES, INTAKE, rm_control

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

    async def appointment_for(self, rm_appointment_id: str) -> str:
        """The case's one appointment linked to R&M's, once there is one (bounded wait)."""
        found: list[str] = []

        async def linked() -> bool:
            case = await read_case(self.case)
            found[:] = [
                a["id"] for a in case["appointments"] if a["rm_appointment_id"] == rm_appointment_id
            ]
            return bool(found)

        await eventually(linked, timeout=30, what=f"R&M's appointment {rm_appointment_id}")
        (appointment_id,) = found
        return str(appointment_id)


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


# --- Waiting for notify, bounded. ---


async def each_endpoint_got_it_once(
    platform: Platform, endpoints: list[Receiver], appointment_id: str
) -> None:
    """notify has each delivery acknowledged, and each receiver has the report under one
    `webhook-id` however often it was sent (a receiver records a request it answers too late)."""
    await all_acknowledged(platform, appointment_id)
    for receiver in endpoints:

        async def once(receiver: Receiver = receiver) -> bool:
            return await receiver.got_once(appointment_id)

        await eventually(once, timeout=30, what=f"{receiver.url} got {appointment_id} once")


async def all_acknowledged(platform: Platform, appointment_id: str) -> None:
    """notify's own record: every endpoint's delivery about the appointment acknowledged."""

    async def acknowledged() -> bool:
        found = await deliveries_of(platform, appointment_id)
        return all(status == "acknowledged" for status, _, _ in found.values())

    await eventually(acknowledged, timeout=30, what=f"deliveries of {appointment_id} acknowledged")


async def echo_consumed(platform: Platform, rm_appointment_id: str) -> None:
    """R&M's event for a submitted feedback has come back through intake, and whatever case made
    of it has been consumed by notify."""
    await platform.records(
        INTAKE,
        lambda r: (
            event_type(r) == "gmirs.intake.attendance-recorded.v1"
            and data_of(r)["rm_appointment_id"] == rm_appointment_id
        ),
    )
    await consumed(platform, "case", INTAKE)
    await asyncio.sleep(1)  # anything case made of it would be on its topic by now
    await consumed(platform, "notify", CASES)


async def consumed(platform: Platform, group: str, topic: str) -> None:
    async def done() -> bool:
        return await caught_up(platform, group, topic)

    await eventually(done, timeout=30, what=f"{group} caught up on {topic}")


async def escalation_emails(platform: Platform, report_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def sent() -> bool:
        async with httpx.AsyncClient(base_url=platform.stack.url("gov_notify")) as http:
            sent = (await http.get("/_control/notifications")).json()
        found[:] = [n for n in sent if n["reference"] == report_id]
        return len(found) >= 2

    await eventually(sent, timeout=30, what=f"escalation emails about report {report_id}")
    return found
