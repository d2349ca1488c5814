"""The service-level facts: commissioners' evidence requests (KP4) and the 24-hour
non-attendance reports (acknowledged, escalated, breached), one row per request and report."""

from __future__ import annotations

from typing import Any

from gmirs_contracts import notify
from gmirs_contracts.case_evidence import EvidenceRequestAnswered, EvidenceRequested
from gmirs_metrics.adapters.facts_rules import Fact, Row
from gmirs_metrics.adapters.facts_tables import EVIDENCE_REQUESTS, REPORTS
from gmirs_runtime.eventing.envelope import Event


def _request(payload: Any, **columns: Any) -> Fact:
    row: Row = {
        "request_id": payload.request_id,
        "hub_id": payload.hub_id,
        "case_id": payload.case_id,
        "requested_at": payload.requested_at,
        "counted_from": payload.counted_from,
        "due_at": payload.due_at,
    }
    row.update(columns)
    return Fact(EVIDENCE_REQUESTS, row)


def evidence_requested(request: EvidenceRequested, event: Event) -> list[Fact]:
    return [_request(request)]


def evidence_answered(answer: EvidenceRequestAnswered, event: Event) -> list[Fact]:
    return [
        _request(
            answer,
            answered_at=answer.answered_at,
            on_time=answer.on_time,
            answered_by_hub=answer.answered_by_hub,
        )
    ]


def _report(payload: notify._ReportEvent, **columns: Any) -> Fact:
    row: Row = {
        "report_id": payload.report_id,
        "case_id": payload.case_id,
        "hub_id": payload.hub_id,
        "origin": payload.origin,
        "appointment_ends_at": payload.appointment_ends_at,
        "due_at": payload.report_due_by,
    }
    row.update(columns)
    return Fact(REPORTS, row)


def report_acknowledged(ack: notify.ReportAcknowledged, event: Event) -> list[Fact]:
    return [
        _report(
            ack,
            acknowledged_at=ack.acknowledged_at,
            channel=ack.channel,
            seconds_taken=ack.seconds_taken,
            within_deadline=ack.within_deadline,
        )
    ]


def report_escalated(escalated: notify.ReportEscalated, event: Event) -> list[Fact]:
    return [
        _report(escalated, escalated_at=escalated.escalated_at, escalation_cause=escalated.cause)
    ]


def report_breached(breached: notify.ReportBreached, event: Event) -> list[Fact]:
    return [_report(breached, breached_at=breached.breached_at, breach_cause=breached.cause)]
