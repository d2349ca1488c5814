"""The statutory report's rules without I/O: completing channels, escalation, breach and cause."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from gmirs_notify.domain.report import (
    Acknowledged,
    Attempt,
    AttemptResult,
    Breached,
    Cause,
    Channel,
    Escalated,
    Origin,
    Report,
    ReportPolicy,
    ReportStatus,
)

ENDS = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
DUE = ENDS + timedelta(hours=24)
POLICY = ReportPolicy()
HOUR = timedelta(hours=1)


def _report(origin: Origin = Origin.HUB, *, rm: bool = True) -> Report:
    return Report(
        id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        appointment_id=uuid.uuid4(),
        rm_appointment_id=None,
        referral_id=uuid.uuid4(),
        rm_referral_id=uuid.uuid4() if rm else None,
        hub_id="bolton",
        reference_number="AY0164AC",
        origin=origin,
        appointment_ends_at=ENDS,
        due_at=DUE,
        created_at=ENDS + HOUR,
    )


def _attempt(channel: Channel, result: AttemptResult, hours: float, detail: str = "") -> Attempt:
    return Attempt(channel, ENDS + timedelta(hours=hours), result, detail or None)


def test_an_rm_recorded_non_attendance_is_complete_on_arrival() -> None:
    report = _report(Origin.REFER_AND_MONITOR)
    [change] = report.arrived(ENDS + HOUR)
    assert change == Acknowledged(report.id, ENDS + HOUR, Channel.RM_RECORDED)
    assert report.status is ReportStatus.ACKNOWLEDGED
    assert report.within_deadline is True
    assert report.tick(DUE + HOUR, POLICY) == []
    assert report.next_check_at(POLICY) is None


def test_a_webhook_acknowledgement_is_kept_but_never_completes_the_report() -> None:
    for report in (_report(), _report(rm=False)):
        assert report.arrived(ENDS + HOUR) == []
        changes = report.record(_attempt(Channel.WEBHOOK, AttemptResult.ACKNOWLEDGED, 1), ENDS)
        assert changes == []
        assert report.status is ReportStatus.OPEN
        assert len(report.attempts) == 1


def test_the_rm_writeback_or_a_manual_entry_completes_an_rm_referral_report() -> None:
    for channel in (Channel.RM_WRITEBACK, Channel.MANUAL_ENTRY):
        report = _report()
        [change] = report.record(_attempt(channel, AttemptResult.ACKNOWLEDGED, 3), ENDS)
        assert change == Acknowledged(report.id, ENDS + 3 * HOUR, channel)
        assert report.acknowledged_channel is channel
    emailed = _report()
    assert emailed.record(_attempt(Channel.NOTIFY_EMAIL, AttemptResult.ACKNOWLEDGED, 3), ENDS) == []


def test_a_referral_without_an_rm_id_is_complete_when_notify_delivers_the_email() -> None:
    report = _report(rm=False)
    accepted = _attempt(Channel.NOTIFY_EMAIL, AttemptResult.ACCEPTED, 1)
    assert report.record(accepted, ENDS) == []
    assert report.cause() == (Cause.AWAITING_ACKNOWLEDGEMENT, "notify_email: accepted x1")
    delivered = _attempt(Channel.NOTIFY_EMAIL, AttemptResult.ACKNOWLEDGED, 2)
    [change] = report.record(delivered, ENDS + 2 * HOUR)
    assert isinstance(change, Acknowledged)
    assert change.channel is Channel.NOTIFY_EMAIL


def test_escalation_comes_twenty_hours_after_the_end_and_only_once() -> None:
    report = _report()
    assert report.next_check_at(POLICY) == ENDS + 20 * HOUR
    assert report.tick(ENDS + 20 * HOUR - timedelta(seconds=1), POLICY) == []
    [change] = report.tick(ENDS + 20 * HOUR, POLICY)
    assert change == Escalated(
        report.id, ENDS + 20 * HOUR, Cause.NOT_ATTEMPTED, "no attempt on manual_entry, rm_writeback"
    )
    assert report.status is ReportStatus.AT_RISK
    assert report.tick(ENDS + 21 * HOUR, POLICY) == []
    assert report.next_check_at(POLICY) == DUE


def test_a_permanent_refusal_escalates_at_once() -> None:
    report = _report()
    refused = _attempt(Channel.WEBHOOK, AttemptResult.REFUSED, 1, "410")
    [change] = report.record(refused, ENDS + HOUR)
    assert change == Escalated(report.id, ENDS + HOUR, Cause.REFUSED, "webhook: refused (410) x1")
    assert report.tick(ENDS + 20 * HOUR, POLICY) == []  # already escalated


def test_a_missed_deadline_is_a_breach_with_its_cause() -> None:
    report = _report()
    for hours in (1, 2):
        report.record(_attempt(Channel.RM_WRITEBACK, AttemptResult.FAILED, hours, "503"), ENDS)
    report.record(_attempt(Channel.WEBHOOK, AttemptResult.ACKNOWLEDGED, 1, "200"), ENDS)
    changes = report.tick(DUE, POLICY)
    detail = "rm_writeback: failed (503) x2; also webhook: acknowledged (200) x1"
    assert changes == [
        Escalated(report.id, DUE, Cause.FAILING, detail),
        Breached(report.id, DUE, Cause.FAILING, detail),
    ]
    assert report.status is ReportStatus.BREACHED
    assert report.next_check_at(POLICY) is None
    assert report.tick(DUE + HOUR, POLICY) == []


def test_a_late_acknowledgement_still_counts_but_outside_the_deadline() -> None:
    report = _report()
    report.tick(DUE, POLICY)
    late = _attempt(Channel.MANUAL_ENTRY, AttemptResult.ACKNOWLEDGED, 25)
    [change] = report.record(late, DUE + HOUR)
    assert isinstance(change, Acknowledged)
    assert report.status is ReportStatus.ACKNOWLEDGED
    assert report.within_deadline is False
    assert report.breach_cause is Cause.NOT_ATTEMPTED
