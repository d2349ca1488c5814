"""The JSON R&M serves: SentReferral, summaries as a Spring Page, service categories, appointments,
action plans and end of service reports, with R&M's field names (refer-and-monitor.md section 2)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tests.fakes.rm_model import (
    COMPLEXITIES,
    CONTRACT_TYPE_NAME,
    LONDON,
    PRIME_PROVIDER,
    ActionPlan,
    Appointment,
    EndOfServiceReport,
    Referral,
    RmStore,
    category_id,
    complexity_id,
    outcome_ids,
    stable_id,
)


def iso(moment: datetime | None) -> str | None:
    """An offset date-time as Jackson writes it: London time, `Z` when the offset is zero."""
    if moment is None:
        return None
    return moment.astimezone(LONDON).isoformat(timespec="microseconds").replace("+00:00", "Z")


def sent_referral(referral: Referral, store: RmStore) -> dict[str, Any]:
    plans = [store.action_plans[i] for i in referral.action_plan_ids]
    approved = [str(p.id) for p in plans if p.approved_at is not None]
    report = store.reports.get(referral.eosr_id) if referral.eosr_id else None
    withdrawal = referral.withdrawal or {}
    return {
        "id": str(referral.id),
        "referenceNumber": referral.reference_number,
        "sentAt": iso(referral.sent_at),
        "sentBy": referral.sent_by,
        "createdBy": referral.sent_by,
        "interventionId": str(referral.details["interventionId"]),
        "serviceUserCRN": referral.crn,
        "relevantSentenceId": referral.relevant_sentence_id,
        "assignedTo": referral.assigned_to,
        "actionPlanId": str(plans[-1].id) if plans else None,
        "currentActionPlanId": str(plans[-1].id) if plans else None,
        "approvedActionPlanIds": approved,
        "endRequestedAt": iso(referral.end_requested_at),
        "endRequestedReason": referral.end_reason,
        "endRequestedComments": withdrawal.get("comments"),
        "endOfServiceReport": end_of_service_report(report) if report else None,
        "endOfServiceReportCreationRequired": referral.end_requested_at is not None
        and report is None,
        "concludedAt": iso(referral.concluded_at),
        "supplementaryRiskId": str(referral.supplementary_risk_id),
        "withdrawalState": withdrawal.get("state"),
        "withdrawalCode": withdrawal.get("code"),
        "withdrawalComments": withdrawal.get("comments"),
        "referral": _referral_details(referral),
    }


def _referral_details(referral: Referral) -> dict[str, Any]:
    names = list(referral.categories)
    return {
        **{k: v for k, v in referral.details.items() if k != "interventionTitle"},
        "createdAt": iso(referral.sent_at),
        "serviceCategoryIds": [str(category_id(n)) for n in names],
        "complexityLevels": [
            {
                "serviceCategoryId": str(category_id(n)),
                "complexityLevelId": str(complexity_id(n, c)),
            }
            for n, c in referral.categories.items()
        ],
        "desiredOutcomes": [
            {
                "serviceCategoryId": str(category_id(n)),
                "desiredOutcomesIds": [str(i) for i in outcome_ids(n)[:2]],
            }
            for n in names
        ],
        "serviceUser": referral.service_user,
        "serviceProvider": PRIME_PROVIDER,
        "contractTypeName": CONTRACT_TYPE_NAME,
        "dynamicFrameworkContractReference": referral.contract_reference,
        "relevantSentenceId": referral.relevant_sentence_id,
        "ndeliusPDU": referral.pdu,
        "ppPdu": referral.pdu,
    }


def summary(referral: Referral) -> dict[str, Any]:
    """One row of GET /sent-referrals/summaries."""
    user = referral.service_user
    return {
        "id": str(referral.id),
        "sentAt": iso(referral.sent_at),
        "sentBy": referral.sent_by,
        "referenceNumber": referral.reference_number,
        "assignedTo": referral.assigned_to,
        "serviceUser": {
            "crn": user["crn"],
            "firstName": user["firstName"],
            "lastName": user["lastName"],
        },
        "serviceProvider": PRIME_PROVIDER,
        "interventionTitle": referral.details["interventionTitle"],
        "concludedAt": iso(referral.concluded_at),
        "expectedReleaseDate": referral.details.get("expectedReleaseDate"),
        "location": referral.pdu,
        "locationType": referral.details.get("personCurrentLocationType"),
    }


def spring_page(
    rows: Sequence[dict[str, Any]], *, page: int, size: int, total: int
) -> dict[str, Any]:
    """Spring Data's PageImpl as Jackson writes it; `page` is 0-based here (the request's is 1-based)."""
    sort = {"empty": False, "sorted": True, "unsorted": False}
    pages = math.ceil(total / size) if size else 0
    return {
        "content": list(rows),
        "pageable": {
            "pageNumber": page,
            "pageSize": size,
            "sort": sort,
            "offset": page * size,
            "paged": True,
            "unpaged": False,
        },
        "last": page + 1 >= pages,
        "totalPages": pages,
        "totalElements": total,
        "size": size,
        "number": page,
        "sort": sort,
        "first": page == 0,
        "numberOfElements": len(rows),
        "empty": not rows,
    }


def service_category(name: str) -> dict[str, Any]:
    return {
        "id": str(category_id(name)),
        "name": name,
        "complexityLevels": [
            {
                "id": str(complexity_id(name, level)),
                "title": f"{level.capitalize()} complexity",
                "description": f"Service user has {level.lower()} complexity needs in {name}.",
            }
            for level in COMPLEXITIES
        ],
        "desiredOutcomes": [
            {"id": str(i), "description": f"{name}: outcome {n}"}
            for n, i in enumerate(outcome_ids(name), start=1)
        ],
    }


def appointment(item: Appointment) -> dict[str, Any]:
    """An appointment with its feedback: submitted, or the provider's draft so far."""
    feedback = item.feedback
    if feedback is None and item.draft_attendance is not None:
        return _with_draft(_appointment(item), item)
    return _appointment(item)


def _with_draft(body: dict[str, Any], item: Appointment) -> dict[str, Any]:
    draft = item.draft_attendance or {}
    body["appointmentFeedback"]["attendanceFeedback"] |= {
        "attended": draft.get("attended"),
        "didSessionHappen": draft.get("didSessionHappen"),
    }
    body["appointmentFeedback"]["sessionFeedback"] = item.draft_session or {}
    return body


def _appointment(item: Appointment) -> dict[str, Any]:
    feedback = item.feedback
    return {
        "id": str(item.id),
        "appointmentTime": iso(item.appointment_time),
        "durationInMinutes": item.duration_minutes,
        "appointmentDeliveryType": item.delivery_type,
        "sessionType": item.session_type,
        "appointmentDeliveryAddress": item.address,
        "npsOfficeCode": item.nps_office_code,
        "superseded": item.superseded,
        "rescheduleRequestedBy": None,
        "rescheduledReason": None,
        "appointmentFeedback": {
            "attendanceFeedback": {
                "attended": feedback.attended if feedback else None,
                "didSessionHappen": feedback.did_session_happen if feedback else None,
                "additionalAttendanceInformation": None,
                "attendanceFailureInformation": None,
                "submittedAt": iso(feedback.submitted_at) if feedback else None,
                "submittedBy": feedback.submitted_by if feedback else None,
            },
            "sessionFeedback": feedback.session if feedback else {},
            "submitted": feedback is not None,
            "submittedBy": feedback.submitted_by if feedback else None,
        },
    }


def supplier_assessment(referral: Referral) -> dict[str, Any]:
    current = referral.assessment[-1] if referral.assessment else None
    return {
        "id": str(referral.supplier_assessment_id),
        "referralId": str(referral.id),
        "currentAppointmentId": str(current.id) if current else None,
        "appointments": [appointment(a) for a in referral.assessment],
    }


def delivery_session(referral: Referral, number: int) -> dict[str, Any]:
    """A session flattens its current appointment; earlier ones are `oldAppointments`."""
    appointments = referral.sessions[number]
    current = appointments[-1] if appointments else None
    fields = appointment(current) if current else {}
    fields.pop("id", None)
    return {
        "id": str(stable_id("delivery-session", str(referral.id), str(number))),
        "sessionNumber": number,
        "appointmentId": str(current.id) if current else None,
        **fields,
        "deliusAppointmentId": str(current.delius_appointment_id)
        if current and current.delius_appointment_id
        else None,
        "oldAppointments": [appointment(a) for a in appointments[:-1]],
    }


def action_plan(plan: ActionPlan) -> dict[str, Any]:
    return {
        "id": str(plan.id),
        "referralId": str(plan.referral_id),
        "numberOfSessions": plan.number_of_sessions,
        "activities": plan.activities,
        "createdBy": plan.created_by,
        "createdAt": iso(plan.created_at),
        "submittedBy": plan.submitted_by,
        "submittedAt": iso(plan.submitted_at),
        "approvedBy": plan.approved_by,
        "approvedAt": iso(plan.approved_at),
    }


def end_of_service_report(report: EndOfServiceReport) -> dict[str, Any]:
    return {
        "id": str(report.id),
        "referralId": str(report.referral_id),
        "createdAt": iso(report.created_at),
        "createdBy": report.created_by,
        "submittedAt": iso(report.submitted_at),
        "submittedBy": report.submitted_by,
        "furtherInformation": report.further_information,
        "outcomes": report.outcomes,
    }
