"""Payloads on `case.case-events.v1` for appointments after booking: moved, cancelled, linked.

What notify's attendance watchdog needs to re-arm or disarm itself, and what its write-back to
Refer and Monitor needs to name the right appointment: the case, referral, hub and appointment
ids, R&M's appointment id when the appointment has one, the group or family session it belongs
to, and times. No names, CRNs, addresses or free text (a cancellation's note stays in case).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import AppointmentKind, HubId

SessionType = Literal["one-to-one", "group", "family"]
"""R&M's ONE_TO_ONE / GROUP; family sessions are ours (R&M records them as GROUP)."""
RequestedBy = Literal["person-on-probation", "service-provider", "probation-practitioner"]
CancellationReason = Literal[
    "person-requested",
    "person-unwell",
    "person-in-custody",
    "worker-unavailable",
    "venue-unavailable",
    "booked-in-error",
    "case-ended",
    "other",
]
LinkSource = Literal["hub", "refer-and-monitor"]


class _AppointmentChange(ContractModel):
    case_id: UUID
    referral_id: UUID
    hub_id: HubId
    appointment_id: UUID
    rm_appointment_id: UUID | None = Field(
        description="Refer and Monitor's appointment, when the appointment is linked to one."
    )
    group_session_id: UUID | None = Field(
        description="The group or family session whose register the appointment belongs to."
    )
    kind: AppointmentKind
    session_number: Annotated[int, Field(ge=1)] | None
    session_type: SessionType
    recorded_at: AwareDatetime


class AppointmentRescheduled(_AppointmentChange):
    """`gmirs.case.appointment-rescheduled.v1`: the appointment moved; re-arm the watchdog.

    `starts_at`/`ends_at` are the new times, `previous_*` the ones they replace.
    """

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    previous_starts_at: AwareDatetime
    previous_ends_at: AwareDatetime
    requested_by: RequestedBy


class AppointmentCancelled(_AppointmentChange):
    """`gmirs.case.appointment-cancelled.v1`: the appointment will not happen; disarm the watchdog."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: CancellationReason


class AppointmentLinked(_AppointmentChange):
    """`gmirs.case.appointment-linked.v1`: the appointment now names R&M's appointment.

    `source` hub: the hub entered R&M's id; refer-and-monitor: R&M reported an appointment of the
    same kind, session number and time, and case matched it instead of adding a second one.
    """

    rm_appointment_id: UUID
    source: LinkSource
    starts_at: AwareDatetime
    ends_at: AwareDatetime
