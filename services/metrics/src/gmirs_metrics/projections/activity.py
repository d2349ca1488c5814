"""What happens within a case: contacts, appointments, outcome assessments, mitigations and
onward referrals, one fact row per thing the events name by id."""

from __future__ import annotations

from typing import Any

from gmirs_contracts import case_appointments as ca
from gmirs_contracts.case import AppointmentBooked, AttendanceRecorded
from gmirs_contracts.case_kpi import MitigationRecorded
from gmirs_contracts.case_needs import (
    ContactAttempted,
    OnwardReferralMade,
    OnwardReferralOutcomeRecorded,
    OutcomeAssessmentRecorded,
)
from gmirs_metrics.adapters.facts_rules import Fact, Row
from gmirs_metrics.adapters.facts_tables import (
    APPOINTMENTS,
    ASSESSMENTS,
    CONTACTS,
    MITIGATIONS,
    ONWARD_REFERRALS,
    SCORES,
)
from gmirs_runtime.eventing.envelope import Event


def contact_attempted(contact: ContactAttempted, event: Event) -> list[Fact]:
    return [
        Fact(
            CONTACTS,
            {
                "contact_id": contact.contact_id,
                "case_id": contact.case_id,
                "hub_id": contact.hub_id,
                "method": contact.method,
                "outcome": contact.outcome,
                "successful": contact.successful,
                "occurred_at": contact.occurred_at,
                "recorded_at": contact.recorded_at,
            },
        )
    ]


def _appointment(payload: Any, **columns: Any) -> Fact:
    row: Row = {
        "appointment_id": payload.appointment_id,
        "case_id": payload.case_id,
        "hub_id": payload.hub_id,
    }
    row.update(columns)
    return Fact(APPOINTMENTS, row)


def appointment_booked(booked: AppointmentBooked, event: Event) -> list[Fact]:
    return [
        _appointment(
            booked,
            kind=booked.kind,
            session_type=booked.session_type,
            session_number=booked.session_number,
            starts_at=booked.starts_at,
            ends_at=booked.ends_at,
            times_seen_at=booked.booked_at,
            booked_at=booked.booked_at,
        )
    ]


def appointment_changed(change: ca._AppointmentChange, event: Event) -> list[Fact]:
    """Rescheduled, cancelled or linked: the times as of `recorded_at`, and a cancellation."""
    columns: Row = {
        "kind": change.kind,
        "session_type": change.session_type,
        "session_number": change.session_number,
    }
    if isinstance(
        change, ca.AppointmentRescheduled | ca.AppointmentCancelled | ca.AppointmentLinked
    ):
        columns.update(
            starts_at=change.starts_at, ends_at=change.ends_at, times_seen_at=change.recorded_at
        )
    if isinstance(change, ca.AppointmentCancelled):
        columns.update(cancelled_at=change.recorded_at, cancellation_reason=change.reason)
    return [_appointment(change, **columns)]


def attendance_recorded(attendance: AttendanceRecorded, event: Event) -> list[Fact]:
    return [
        _appointment(
            attendance,
            kind=attendance.appointment_kind,
            session_number=attendance.session_number,
            starts_at=attendance.appointment_starts_at,
            ends_at=attendance.appointment_ends_at,
            times_seen_at=attendance.recorded_at,
            attended=attendance.attended,
            non_attendance=attendance.non_attendance,
            attendance_source=attendance.source,
            attendance_recorded_at=attendance.recorded_at,
        )
    ]


def outcome_assessment_recorded(assessment: OutcomeAssessmentRecorded, event: Event) -> list[Fact]:
    """The assessment and its scores; which one a correction replaces is settled after the upsert."""
    facts = [
        Fact(
            ASSESSMENTS,
            {
                "assessment_id": assessment.assessment_id,
                "case_id": assessment.case_id,
                "hub_id": assessment.hub_id,
                "stage": assessment.stage,
                "corrects": assessment.corrects,
                "occurred_at": assessment.occurred_at,
                "recorded_at": assessment.recorded_at,
            },
        )
    ]
    facts.extend(
        Fact(
            SCORES,
            {
                "assessment_id": assessment.assessment_id,
                "area": area.area,
                "self_score": area.self_score,
                "staff_score": area.staff_score,
            },
        )
        for area in assessment.areas
    )
    return facts


def mitigation_recorded(mitigation: MitigationRecorded, event: Event) -> list[Fact]:
    return [
        Fact(
            MITIGATIONS,
            {
                "mitigation_id": mitigation.mitigation_id,
                "case_id": mitigation.case_id,
                "hub_id": mitigation.hub_id,
                "measure": mitigation.measure,
                "reason": mitigation.reason,
                "occurred_at": mitigation.occurred_at,
                "recorded_at": mitigation.recorded_at,
            },
        )
    ]


def _onward(payload: Any, **columns: Any) -> Fact:
    row: Row = {
        "onward_referral_id": payload.onward_referral_id,
        "case_id": payload.case_id,
        "hub_id": payload.hub_id,
        "outcome": payload.outcome,
        "outcome_recorded_at": payload.recorded_at,
    }
    row.update(columns)
    return Fact(ONWARD_REFERRALS, row)


def onward_referral_made(made: OnwardReferralMade, event: Event) -> list[Fact]:
    return [
        _onward(
            made,
            agency=made.agency,
            need=made.need,
            referred_at=made.referred_at,
            recorded_at=made.recorded_at,
        )
    ]


def onward_referral_outcome(outcome: OnwardReferralOutcomeRecorded, event: Event) -> list[Fact]:
    return [_onward(outcome)]
