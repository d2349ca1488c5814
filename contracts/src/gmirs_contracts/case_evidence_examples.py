"""One valid, fictional example of each evidence request event (see examples.py for the rules
examples follow): asked of bolton about the example case on Friday 4 December 2026 at 15:00,
so due on Monday 7 December at 17:00, and answered on the Monday morning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID

from gmirs_contracts import case_evidence as e
from gmirs_contracts.base import ContractModel
from gmirs_contracts.example_ids import CASE_ID

REQUEST_ID = UUID("7a9c1e3b-6d8f-4a0b-8c2e-5f7a9c1e3b6d")
ABOUT = {
    "request_id": REQUEST_ID,
    "hub_id": "bolton",
    "case_id": CASE_ID,
    "requested_at": datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
    "counted_from": date(2026, 12, 4),
    "due_at": datetime(2026, 12, 7, 17, 0, tzinfo=UTC),
}


def evidence_requested() -> e.EvidenceRequested:
    return e.EvidenceRequested.model_validate(
        {**ABOUT, "recorded_at": datetime(2026, 12, 4, 15, 0, 2, tzinfo=UTC)}
    )


def evidence_request_answered() -> e.EvidenceRequestAnswered:
    return e.EvidenceRequestAnswered.model_validate(
        {
            **ABOUT,
            "answered_at": datetime(2026, 12, 7, 11, 30, tzinfo=UTC),
            "on_time": True,
            "answered_by_hub": True,
        }
    )


EVIDENCE_EXAMPLES: dict[str, Callable[[], ContractModel]] = {
    "gmirs.case.evidence-requested.v1": evidence_requested,
    "gmirs.case.evidence-request-answered.v1": evidence_request_answered,
}
