"""The attendance watchdog: notify runs whole on the real broker and PostgreSQL, time is moved.

An appointment booked through case is watched; nobody recording its attendance two hours after
its end warns the hub once (an event and an email through the GOV.UK Notify fake); attendance
(hub or R&M), cancellation and rescheduling, in any order and twice, do what they mean.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from pydantic import SecretStr, ValidationError

from gmirs_contracts import case_appointments_examples, examples
from gmirs_contracts.base import ContractModel
from gmirs_contracts.case import AppointmentBooked
from gmirs_contracts.registry import contract_for
from gmirs_notify.bootstrap import Wiring
from gmirs_notify.domain.attendance_watch import WatchdogPolicy
from gmirs_notify.handlers.attendance_watchdog import AttendanceWatchdog, appointment_booked
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually
from tests.fakes.gov_notify import GovNotify, Template

from .harness import AUDIENCE, Notify, ShiftedClock, attendance_event, running_notify, serving

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"gmirs_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = str(uuid.uuid4())
TEMPLATE = Template(
    subject="Attendance not recorded: ((case_reference))",
    body="Hub ((hub)): nobody recorded attendance for the appointment that ended "
    "((appointment_ended_at)).",
)
HUB_CONTACT = "bolton.contact@example.org"
WARNED = "gmirs.notify.attendance-watchdog-warned.v1"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Appointment:
    """One fictional appointment of its own case (a one-to-one session unless told)."""

    ends_at: datetime
    case_id: uuid.UUID
    appointment_id: uuid.UUID
    kind: str = "session"
    session_number: int | None = 1
    group_session_id: uuid.UUID | None = None

    @classmethod
    def ending(cls, ends_at: datetime, **changes: Any) -> Appointment:
        return cls(ends_at, uuid.uuid4(), uuid.uuid4(), **changes)

    def booked(self, *, booked_at: datetime | None = None) -> Event:
        return self._event(
            examples.appointment_booked(),
            starts_at=self.ends_at - HOUR,
            ends_at=self.ends_at,
            booked_at=booked_at or datetime.now(UTC) - timedelta(days=1),
            session_type="one-to-one" if self.group_session_id is None else "group",
            group_session_id=self.group_session_id,
        )

    def moved(self, to: datetime, *, recorded_at: datetime) -> Event:
        return self._event(
            case_appointments_examples.appointment_rescheduled(),
            starts_at=to - HOUR,
            ends_at=to,
            previous_starts_at=self.ends_at - HOUR,
            previous_ends_at=self.ends_at,
            recorded_at=recorded_at,
        )

    def cancelled(self) -> Event:
        return self._event(
            case_appointments_examples.appointment_cancelled(),
            starts_at=self.ends_at - HOUR,
            ends_at=self.ends_at,
            recorded_at=datetime.now(UTC),
        )

    def attended(self, attended: str = "yes", **changes: Any) -> Event:
        return attendance_event(
            attended=attended,
            case_id=self.case_id,
            appointment_id=self.appointment_id,
            appointment_starts_at=self.ends_at - HOUR,
            appointment_ends_at=self.ends_at,
            appointment_kind=self.kind,
            session_number=self.session_number,
            **changes,
        )

    def _event(self, example: ContractModel, **changes: Any) -> Event:
        ids: dict[str, Any] = {"case_id": self.case_id, "appointment_id": self.appointment_id}
        ids |= {"kind": self.kind, "session_number": self.session_number}
        payload = example.model_copy(update=ids | changes)
        return Event(
            type=contract_for(type(payload)).ce_type,
            source="/gmirs/case",
            subject=self.case_id,
            data=payload.to_data(),
        )


@pytest.fixture
async def fake_notify() -> AsyncIterator[tuple[GovNotify, str]]:
    fake = GovNotify([API_KEY], {TEMPLATE_ID: TEMPLATE})
    async with serving(fake.app) as url:
        yield fake, url


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def measured(wiring: Wiring, reader: InMemoryMetricReader) -> Wiring:
    """The test's wiring, counting on a meter provider whose reader the test reads."""
    return Wiring(**{**vars(wiring), "meter_provider": MeterProvider(metric_readers=[reader])})


def _with_notify(settings: NotifySettings, url: str) -> NotifySettings:
    return settings.model_copy(
        update={
            "gov_notify_api_key": SecretStr(API_KEY),
            "gov_notify_base_url": url,
            "attendance_watchdog_template_id": TEMPLATE_ID,
            "escalation_hub_contacts": {"bolton": HUB_CONTACT},
        }
    )


async def test_an_unrecorded_appointment_warns_the_hub_once_after_the_delay_and_is_counted(
    settings: NotifySettings,
    measured: Wiring,
    token_issuer: TestIssuer,
    clock: ShiftedClock,
    fake_notify: tuple[GovNotify, str],
    reader: InMemoryMetricReader,
) -> None:
    fake, url = fake_notify
    now = datetime.now(UTC)
    unrecorded = Appointment.ending(now + HOUR, kind="initial-assessment", session_number=None)
    moved = Appointment.ending(now + HOUR, group_session_id=uuid.uuid4())  # a place on a group
    attended, missed_in_rm, cancelled = (Appointment.ending(now + HOUR) for _ in range(3))
    missed = attendance_event(due_in=timedelta(hours=23))  # a report, for the report counters
    async with running_notify(_with_notify(settings, url), measured, token_issuer) as notify:
        await notify.publish(_case_opened(unrecorded.case_id))
        for appointment in (unrecorded, moved, attended, missed_in_rm, cancelled):
            await notify.publish(appointment.booked())
        await notify.publish(moved.moved(now + 6 * HOUR, recorded_at=now))
        await notify.publish(attended.attended("yes"))
        rm_recorded = missed_in_rm.attended("no", source="refer-and-monitor", recorded_by=None)
        await notify.publish(rm_recorded)
        await notify.publish(cancelled.cancelled())
        await notify.publish(missed)
        await _states(
            notify,
            {
                unrecorded: "watching",
                moved: "watching",
                attended: "recorded",
                missed_in_rm: "recorded",
                cancelled: "cancelled",
            },
        )

        warn_at = unrecorded.ends_at + 2 * HOUR
        clock.advance(warn_at - timedelta(minutes=1) - clock())  # a minute before end + 2 hours
        await notify.rows("SELECT pg_sleep(0.4)")  # a few clock rounds
        assert await notify.rows("SELECT * FROM attendance_watches WHERE state = 'warned'") == []
        assert await notify.rows("SELECT * FROM outbox WHERE type = :t", t=WARNED) == []

        clock.advance(timedelta(minutes=2))
        await _emailed(notify, unrecorded)
        [event] = await notify.published(WARNED, unrecorded.case_id)
        assert (event["appointment_id"], event["hub_id"]) == (
            str(unrecorded.appointment_id),
            "bolton",
        )
        assert (event["warned_after_seconds"], event["appointment_kind"]) == (
            7200,
            "initial-assessment",
        )
        [sent] = fake.notifications.values()
        assert (sent.email_address, sent.reference) == (HUB_CONTACT, str(unrecorded.appointment_id))
        assert set(sent.personalisation) == {"case_reference", "hub", "appointment_ended_at"}
        assert sent.personalisation["case_reference"] == "AB1234CD"
        for personal in ("X123456", "Smith", "John", str(unrecorded.case_id)):
            assert personal not in sent.subject + sent.body
        at_risk = await _operator_list(notify, "?status=warned")
        [listed] = [w for w in at_risk if w["appointment_id"] == str(unrecorded.appointment_id)]
        assert (listed["case_id"], listed["hub_id"]) == (str(unrecorded.case_id), "bolton")
        assert listed["warned_at"] is not None
        assert listed["email_sent_at"] is not None
        assert datetime.fromisoformat(listed["warn_at"]) == unrecorded.ends_at + 2 * HOUR

        clock.advance(24 * HOUR)  # the moved appointment's time; the missed report's deadline
        await _emailed(notify, moved)
        await _breached(notify, missed.subject)
        await notify.rows("SELECT pg_sleep(0.4)")
        assert len(await notify.published(WARNED, unrecorded.case_id)) == 1
        assert len(await notify.published(WARNED, moved.case_id)) == 1
        assert len(fake.notifications) == 2
        assert await notify.published(WARNED, attended.case_id) == []
        assert await notify.published(WARNED, missed_in_rm.case_id) == []
        assert await notify.published(WARNED, cancelled.case_id) == []

    counted = _counts(reader)
    assert counted["gmirs.notify.attendance_watchdog.warnings"] == {(("hub_id", "bolton"),): 2}
    assert counted["gmirs.notify.reports.escalated"] == {(("cause", "not-attempted"),): 1}
    assert counted["gmirs.notify.reports.breached"] == {(("cause", "not-attempted"),): 1}


async def test_events_out_of_order_or_twice_never_rearm_or_roll_back_a_watch(
    notify: Notify, clock: ShiftedClock
) -> None:
    now = datetime.now(UTC)
    early = [Appointment.ending(now + HOUR) for _ in range(5)]
    recorded_first, booked_twice, cancelled_first, missed_then_cancelled, stale_move = early
    moved_first = Appointment.ending(now + HOUR)

    await notify.publish(recorded_first.attended("yes"))
    await notify.publish(recorded_first.booked())
    booking = booked_twice.booked()
    await notify.publish(booking)
    await notify.publish(booked_twice.attended("late"))
    await notify.publish(booking)  # the broker redelivers it (same event id)
    await notify.publish(booked_twice.booked())  # case publishes it again (a new event id)
    await notify.publish(cancelled_first.cancelled())
    await notify.publish(cancelled_first.booked())
    await notify.publish(missed_then_cancelled.booked())
    await notify.publish(missed_then_cancelled.attended("no"))
    await notify.publish(missed_then_cancelled.cancelled())
    await notify.publish(stale_move.booked(booked_at=now - 2 * HOUR))
    await notify.publish(stale_move.moved(now + 6 * HOUR, recorded_at=now))
    await notify.publish(stale_move.moved(now + 2 * HOUR, recorded_at=now - HOUR))  # older
    await notify.publish(moved_first.moved(now + 6 * HOUR, recorded_at=now))
    await notify.publish(moved_first.booked(booked_at=now - HOUR))  # the booking, late
    await _states(
        notify,
        {
            recorded_first: "recorded",
            booked_twice: "recorded",
            cancelled_first: "cancelled",
            missed_then_cancelled: "recorded",
            stale_move: "watching",
            moved_first: "watching",
        },
    )
    for moved in (stale_move, moved_first):
        [row] = await notify.rows(
            "SELECT ends_at FROM attendance_watches WHERE appointment_id = :a",
            a=moved.appointment_id,
        )
        assert row["ends_at"] == now + 6 * HOUR

    clock.advance(4 * HOUR)
    await notify.rows("SELECT pg_sleep(0.4)")
    assert await notify.rows("SELECT * FROM outbox WHERE type = :t", t=WARNED) == []
    clock.advance(5 * HOUR)

    async def both_warned() -> bool:
        rows = await notify.rows("SELECT payload FROM outbox WHERE type = :t", t=WARNED)
        return len(rows) >= 2

    await eventually(both_warned, what="the moved appointments warned")
    rows = await notify.rows("SELECT payload FROM outbox WHERE type = :t", t=WARNED)
    warned = sorted(r["payload"]["appointment_id"] for r in rows)
    assert warned == sorted(str(a.appointment_id) for a in (stale_move, moved_first))


async def test_two_replicas_warn_each_watch_exactly_once(api: Notify) -> None:
    now = datetime.now(UTC)
    appointments = [Appointment.ending(now - 3 * HOUR) for _ in range(250)]
    async with api.infra.unit_of_work() as uow:
        for appointment in appointments:
            event = appointment.booked()
            await appointment_booked(AppointmentBooked.model_validate(event.data), event, uow)
        await uow.commit()
    required = {"database_url": "postgresql://x/y", "auth_issuer": "x", "auth_jwks_url": "x"}
    assert NotifySettings.model_validate(required).watchdog_policy() == WatchdogPolicy(2 * HOUR)
    for too_late in ("PT20H1S", "-PT1S"):  # a warning must leave time to report in 24 hours
        with pytest.raises(ValidationError):
            NotifySettings.model_validate(required | {"attendance_watchdog_after": too_late})
    policy = NotifySettings.model_validate(
        required | {"attendance_watchdog_after": "PT2H"}
    ).watchdog_policy()
    replicas = [AttendanceWatchdog(unit_of_work=api.infra.unit_of_work, policy=policy)] * 2
    await asyncio.gather(*(replica(now) for replica in replicas))
    rows = await api.rows("SELECT payload FROM outbox WHERE type = :t", t=WARNED)
    warned = [r["payload"]["appointment_id"] for r in rows]
    assert sorted(warned) == sorted(str(a.appointment_id) for a in appointments)
    states = await api.rows("SELECT state, count(*) AS n FROM attendance_watches GROUP BY state")
    assert states == [{"state": "warned", "n": 250}]


async def test_only_operators_list_the_watches_and_bad_queries_are_problems(api: Notify) -> None:
    appointment = Appointment.ending(datetime.now(UTC) + HOUR)
    async with api.infra.unit_of_work() as uow:
        event = appointment.booked()
        booked = AppointmentBooked.model_validate(event.data)
        await appointment_booked(booked, event, uow)
        await uow.commit()
    path = "/operator/attendance-watches"
    for role in ("probation-system", "hub", "lead-provider", "commissioner"):
        token = api.issuer.mint(f"{role}-1", (role,), AUDIENCE, {"hub_id": "bolton"})
        answer = await api.http.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403, role
    assert (await api.http.get(path)).status_code == 401
    [listed] = await _operator_list(api, "")
    assert (listed["appointment_id"], listed["status"]) == (
        str(appointment.appointment_id),
        "watching",
    )
    assert listed["warned_at"] is None
    assert await _operator_list(api, "?status=warned") == []
    for query in ("status=late", "limit=0", "limit=201", "offset=-1", "limit=9223372036854775808"):
        bad = await api.call("operator-1", "GET", f"{path}?{query}")
        assert bad.status_code == 422, query
        assert bad.headers["content-type"].startswith("application/problem+json")
    audited = await api.rows("SELECT actor FROM audit_log WHERE action = 'attendance-watch.listed'")
    assert audited
    assert {row["actor"] for row in audited} == {"operator-1"}


def _case_opened(case_id: uuid.UUID) -> Event:
    opened = examples.case_opened().model_copy(update={"case_id": case_id})
    return Event(
        type=contract_for(type(opened)).ce_type,
        source="/gmirs/case",
        subject=case_id,
        data=opened.to_data(),
    )


async def _states(notify: Notify, expected: dict[Appointment, str]) -> None:
    wanted = {str(a.appointment_id): state for a, state in expected.items()}

    async def reached() -> bool:
        rows = await notify.rows("SELECT appointment_id, state FROM attendance_watches")
        found = {str(r["appointment_id"]): r["state"] for r in rows}
        return all(found.get(a) == state for a, state in wanted.items())

    await eventually(reached, what="the watches' states")
    rows = await notify.rows("SELECT appointment_id, state FROM attendance_watches")
    found = {str(r["appointment_id"]): r["state"] for r in rows}
    assert {a: found.get(a) for a in wanted} == wanted


async def _emailed(notify: Notify, appointment: Appointment) -> None:
    async def sent() -> bool:
        rows = await notify.rows(
            "SELECT email_sent_at FROM attendance_watches WHERE appointment_id = :a",
            a=appointment.appointment_id,
        )
        return bool(rows) and rows[0]["email_sent_at"] is not None

    await eventually(sent, what="the watchdog's email sent")


async def _breached(notify: Notify, case_id: object) -> None:
    async def breached() -> bool:
        return any(r["breached_at"] is not None for r in await notify.report(case_id))  # type: ignore[arg-type]

    await eventually(breached, what="the report breached")


async def _operator_list(notify: Notify, query: str) -> list[dict[str, Any]]:
    answer = await notify.call("operator-1", "GET", f"/operator/attendance-watches{query}")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _counts(reader: InMemoryMetricReader) -> dict[str, dict[tuple[tuple[str, Any], ...], float]]:
    """Each counter's value per attribute set, read back through the real reader."""
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, dict[tuple[tuple[str, Any], ...], float]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    assert isinstance(point, NumberDataPoint)
                    key = tuple(sorted((point.attributes or {}).items()))
                    found.setdefault(metric.name, {})[key] = point.value
    return found
