"""An appointment's changes after booking to their published contracts (case_appointments).

Each payload is the case's and the appointment's fields, renamed where the contract's names
differ, plus what the change adds; the contract takes exactly the fields it declares.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gmirs_case.adapters import records
from gmirs_case.domain.appointment_values import Cancellation, Rescheduled
from gmirs_case.domain.model import Appointment, Case
from gmirs_contracts import case_appointments as contract
from gmirs_contracts.registry import EVENTS

RESCHEDULED = EVENTS["gmirs.case.appointment-rescheduled.v1"]
CANCELLED = EVENTS["gmirs.case.appointment-cancelled.v1"]
LINKED = EVENTS["gmirs.case.appointment-linked.v1"]


def rescheduled(
    case: Case, appointment: Appointment, earlier: Rescheduled
) -> contract.AppointmentRescheduled:
    values = _fields(case, appointment, recorded_at=earlier.rescheduled_at)
    values |= records.record_of(earlier)
    return records.contract(contract.AppointmentRescheduled, values)


def cancelled(
    case: Case, appointment: Appointment, cancellation: Cancellation
) -> contract.AppointmentCancelled:
    values = _fields(case, appointment, recorded_at=cancellation.cancelled_at)
    values["reason"] = cancellation.reason.value
    return records.contract(contract.AppointmentCancelled, values)


def linked(
    case: Case, appointment: Appointment, *, source: str, now: datetime
) -> contract.AppointmentLinked:
    values = _fields(case, appointment, recorded_at=now) | {"source": source}
    return records.contract(contract.AppointmentLinked, values)


def _fields(case: Case, appointment: Appointment, *, recorded_at: datetime) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "referral_id": case.referral_id,
        "hub_id": case.hub_id,
        **records.record_of(appointment, rename={"id": "appointment_id"}),
        "recorded_at": recorded_at,
    }
