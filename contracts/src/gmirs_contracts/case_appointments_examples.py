"""One valid, fictional example of each appointment change event (see examples.py for the rules
examples follow): session 1 of the shared story's case, moved, then cancelled, and linked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gmirs_contracts import case_appointments as a
from gmirs_contracts.base import ContractModel
from gmirs_contracts.example_ids import (
    APPOINTMENT_ID,
    CASE_ID,
    ENDS_AT,
    REFERRAL_ID,
    RM_APPOINTMENT_ID,
    STARTS_AT,
)

MOVED_BY = timedelta(days=2)


def _of_appointment(recorded_at: datetime) -> dict[str, Any]:
    return {
        "case_id": CASE_ID,
        "referral_id": REFERRAL_ID,
        "hub_id": "bolton",
        "appointment_id": APPOINTMENT_ID,
        "rm_appointment_id": RM_APPOINTMENT_ID,
        "group_session_id": None,
        "kind": "session",
        "session_number": 1,
        "session_type": "one-to-one",
        "recorded_at": recorded_at,
    }


def appointment_rescheduled() -> a.AppointmentRescheduled:
    return a.AppointmentRescheduled(
        **_of_appointment(datetime(2026, 2, 27, 9, 30, tzinfo=UTC)),
        starts_at=STARTS_AT + MOVED_BY,
        ends_at=ENDS_AT + MOVED_BY,
        previous_starts_at=STARTS_AT,
        previous_ends_at=ENDS_AT,
        requested_by="person-on-probation",
    )


def appointment_cancelled() -> a.AppointmentCancelled:
    return a.AppointmentCancelled(
        **_of_appointment(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
        starts_at=STARTS_AT + MOVED_BY,
        ends_at=ENDS_AT + MOVED_BY,
        reason="person-unwell",
    )


def appointment_linked() -> a.AppointmentLinked:
    values = _of_appointment(datetime(2026, 2, 26, 11, 0, tzinfo=UTC))
    values["rm_appointment_id"] = RM_APPOINTMENT_ID
    return a.AppointmentLinked(**values, source="hub", starts_at=STARTS_AT, ends_at=ENDS_AT)


APPOINTMENT_EXAMPLES: dict[str, Callable[[], ContractModel]] = {
    "gmirs.case.appointment-rescheduled.v1": appointment_rescheduled,
    "gmirs.case.appointment-cancelled.v1": appointment_cancelled,
    "gmirs.case.appointment-linked.v1": appointment_linked,
}
