"""notify's counters, counted from the delivery events a transaction committed.

Every escalation, breach and watchdog warning is published as an event in the transaction that
decides it (`handlers/reports.publish_changes`, `handlers/attendance_watchdog`), so counting what
the unit of work committed counts each exactly once, whichever path decided it, and never one
that rolled back. Attributes are a cause or a hub id: never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider

from gmirs_contracts.notify import AttendanceWatchdogWarned, ReportBreached, ReportEscalated
from gmirs_contracts.registry import contract_for
from gmirs_runtime.eventing.envelope import Event

ESCALATED = contract_for(ReportEscalated).ce_type
BREACHED = contract_for(ReportBreached).ce_type
WATCHDOG_WARNED = contract_for(AttendanceWatchdogWarned).ce_type


class NotifyMetrics:
    """`gmirs.notify.reports.escalated{cause}`, `gmirs.notify.reports.breached{cause}` and
    `gmirs.notify.attendance_watchdog.warnings{hub_id}` on `meter_provider` (default: the
    process's global one, which exports over OTLP where configured)."""

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        meter = metrics.get_meter("gmirs_notify", meter_provider=meter_provider)
        self._escalated = meter.create_counter(
            "gmirs.notify.reports.escalated",
            unit="{report}",
            description="Non-attendance reports escalated to named people, by cause.",
        )
        self._breached = meter.create_counter(
            "gmirs.notify.reports.breached",
            unit="{report}",
            description="Non-attendance reports that missed their 24-hour deadline, by cause.",
        )
        self._warned = meter.create_counter(
            "gmirs.notify.attendance_watchdog.warnings",
            unit="{appointment}",
            description="Appointments whose attendance nobody recorded in time, by hub.",
        )

    def committed(self, events: Iterable[Event]) -> None:
        """Count what one transaction committed."""
        for event in events:
            if event.type == ESCALATED:
                self._escalated.add(1, {"cause": str(event.data["cause"])})
            elif event.type == BREACHED:
                self._breached.add(1, {"cause": str(event.data["cause"])})
            elif event.type == WATCHDOG_WARNED:
                self._warned.add(1, {"hub_id": str(event.data["hub_id"])})


GLOBAL = NotifyMetrics()
"""Counting on the process's global meter provider (what a deployment uses)."""
