"""The statutory report per non-attendance, through the running service and its clock.

notify runs whole on real PostgreSQL and the real broker; the clock is wall time shifted forward
by the test (`ShiftedClock`), so escalation at 20 hours and breach at 24 hours take no waiting.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from gmirs_contracts.validation import validate_event
from gmirs_runtime.testing.kafka import eventually

from .harness import FakeEndpoint, Fakes, Notify, ShiftedClock, attendance_event

ACKNOWLEDGED = "gmirs.notify.report-acknowledged.v1"
ESCALATED = "gmirs.notify.report-escalated.v1"
BREACHED = "gmirs.notify.report-breached.v1"


async def _subscribed(notify: Notify, fakes: Fakes, *statuses: int) -> FakeEndpoint:
    endpoint = await fakes.start(status_sequence=statuses)
    created = await notify.subscribe("probation-a", endpoint.url)
    endpoint.system.set_secrets([created["secret"]])
    return endpoint


async def _one_report(notify: Notify, case_id: uuid.UUID, **expected: Any) -> dict[str, Any]:
    """Wait until the case has exactly one report matching `expected`; return it."""

    async def matches() -> bool:
        found = await notify.report(case_id)
        return len(found) == 1 and all(found[0][k] == v for k, v in expected.items())

    await eventually(matches, what=f"one report with {expected}")
    [report] = await notify.report(case_id)
    return report


async def _published(notify: Notify, ce_type: str, case_id: uuid.UUID) -> dict[str, Any]:
    """The one `ce_type` event for the case, checked against its schema file."""
    [payload] = await notify.published(ce_type, case_id)
    validate_event(ce_type, payload)
    return payload


async def test_both_origins_start_one_report_each_and_the_write_back_echo_starts_nothing(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint = await _subscribed(notify, fakes)
    rm_appointment = uuid.uuid4()
    hub = attendance_event(rm_appointment_id=rm_appointment)
    case_id = hub.subject
    assert isinstance(case_id, uuid.UUID)
    await notify.publish(hub)
    await notify.publish(hub)  # redelivered
    report = await _one_report(notify, case_id, origin="hub")
    await eventually(lambda: notify.delivery_status(case_id, "acknowledged"))
    report = await _one_report(notify, case_id, acknowledged_at=None)
    # The probation system's 2xx is kept on the report, but the webhook never completes it.
    assert [(a["channel"], a["result"]) for a in report["attempts"]] == [
        ("webhook", "acknowledged")
    ]
    assert report["next_check_at"] == report["due_at"] - timedelta(hours=4)

    # R&M's event for the platform's own write-back: no new report, no second delivery,
    # and it proves R&M accepted the report.
    echo = attendance_event(
        case_id=case_id, source="refer-and-monitor", rm_appointment_id=rm_appointment
    )
    await notify.publish(echo)
    report = await _one_report(notify, case_id, acknowledged_channel="rm_writeback")
    assert report["attempts"][-1]["detail"] == "rm-event"
    acknowledged = await _published(notify, ACKNOWLEDGED, case_id)
    assert (acknowledged["channel"], acknowledged["within_deadline"]) == ("rm_writeback", True)
    assert acknowledged["attempts"] == 2
    assert len(await notify.rows("SELECT id FROM deliveries WHERE case_id = :c", c=case_id)) == 1

    # A non-attendance recorded in R&M itself: one report, complete on arrival, still delivered.
    in_rm = attendance_event(source="refer-and-monitor", rm_appointment_id=uuid.uuid4())
    await notify.publish(in_rm)
    rm_case = in_rm.subject
    assert isinstance(rm_case, uuid.UUID)
    report = await _one_report(notify, rm_case, acknowledged_channel="rm_recorded")
    assert report["next_check_at"] is None
    reported = await _published(notify, ACKNOWLEDGED, rm_case)
    assert reported["origin"] == "refer-and-monitor"
    assert reported["seconds_taken"] > 0
    await eventually(lambda: notify.delivery_status(rm_case, "acknowledged"))
    assert len(endpoint.accepted()) == 2


async def test_an_unacknowledged_report_escalates_at_20_hours_and_breaches_at_24_with_its_cause(
    notify: Notify, clock: ShiftedClock
) -> None:
    event = attendance_event(due_in=timedelta(hours=23))  # ended an hour ago; nobody subscribed
    case_id = event.subject
    assert isinstance(case_id, uuid.UUID)
    await notify.publish(event)
    report = await _one_report(notify, case_id)
    clock.advance(timedelta(hours=19) - timedelta(minutes=1))
    await notify.rows("SELECT pg_sleep(0.3)")  # several clock rounds: still too early
    assert (await _one_report(notify, case_id))["escalated_at"] is None

    clock.advance(timedelta(minutes=2))
    report = await _one_report(notify, case_id, escalation_cause="not-attempted")
    assert report["escalated_at"] - report["appointment_ends_at"] >= timedelta(hours=20)
    escalated = await _published(notify, ESCALATED, case_id)
    assert escalated["detail"] == "no attempt on manual_entry, rm_writeback"
    assert report["breached_at"] is None

    clock.advance(timedelta(hours=4))
    report = await _one_report(notify, case_id, breach_cause="not-attempted")
    assert report["breached_at"] >= report["due_at"]
    assert report["next_check_at"] is None
    breached = await _published(notify, BREACHED, case_id)
    assert (breached["cause"], breached["hub_id"]) == ("not-attempted", "bolton")
    assert await notify.published(ESCALATED, case_id) == [escalated]  # escalated once only


async def test_a_probation_system_refusing_for_good_escalates_the_report_at_once(
    notify: Notify, fakes: Fakes
) -> None:
    await _subscribed(notify, fakes, 410)
    event = attendance_event(due_in=timedelta(hours=23))
    case_id = event.subject
    assert isinstance(case_id, uuid.UUID)
    await notify.publish(event)
    report = await _one_report(notify, case_id, escalation_cause="refused")
    assert report["escalated_at"] < report["due_at"] - timedelta(hours=20)
    escalated = await _published(notify, ESCALATED, case_id)
    assert escalated["detail"] == "webhook: refused (410) x1"
