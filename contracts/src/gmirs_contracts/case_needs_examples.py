"""One valid, fictional example of each contact, outcome assessment and consent event (see
examples.py for the rules examples follow)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from gmirs_contracts import case_needs as n
from gmirs_contracts.base import ContractModel
from gmirs_contracts.example_ids import CASE_ID, REFERRAL_ID, SENT_AT

CONTACT_ID = UUID("4d6f8a0b-3e5a-4c7b-9d1f-2a4c6e8b0d3f")
ASSESSMENT_ID = UUID("5e7a9b1c-4f6b-4d8c-8e2a-3b5d7f9c1e4a")
CONSENT_ID = UUID("6f8b0c2d-5a7c-4e9d-9f3b-4c6e8a0d2f5b")
OF_CASE = {"case_id": CASE_ID, "referral_id": REFERRAL_ID, "hub_id": "bolton"}


def _day(n: int, hour: int = 10) -> datetime:
    return SENT_AT.replace(hour=hour) + timedelta(days=n)


def contact_attempted() -> n.ContactAttempted:
    return n.ContactAttempted(
        **OF_CASE,
        contact_id=CONTACT_ID,
        method="phone",
        outcome="no-answer",
        successful=False,
        occurred_at=_day(1),
        recorded_at=_day(1, hour=11),
    )


def outcome_assessment_recorded() -> n.OutcomeAssessmentRecorded:
    return n.OutcomeAssessmentRecorded(
        **OF_CASE,
        assessment_id=ASSESSMENT_ID,
        stage="baseline",
        corrects=None,
        areas=[
            n.AreaScores(
                area="shelter-and-accommodation", complexity="high", self_score=3, staff_score=2
            ),
            n.AreaScores(
                area="finance-and-benefits", complexity="medium", self_score=5, staff_score=4
            ),
        ],
        occurred_at=_day(8),
        recorded_at=_day(8, hour=15),
    )


def consent_given() -> n.ConsentGiven:
    return n.ConsentGiven(
        **OF_CASE,
        consent_id=CONSENT_ID,
        partner="Bolton Housing Advice",
        scopes=["contact-details", "needs"],
        given_at=_day(6),
        recorded_at=_day(6, hour=11),
    )


def consent_withdrawn() -> n.ConsentWithdrawn:
    return n.ConsentWithdrawn(
        **OF_CASE,
        consent_id=CONSENT_ID,
        partner="Bolton Housing Advice",
        withdrawn_at=_day(20),
        recorded_at=_day(20, hour=12),
    )


ONWARD_REFERRAL_ID = UUID("7e6d5c4b-3a29-4c18-9f07-e6d5c4b3a291")


def onward_referral_made() -> n.OnwardReferralMade:
    return n.OnwardReferralMade(
        **OF_CASE,
        onward_referral_id=ONWARD_REFERRAL_ID,
        agency="Bolton Housing Advice",
        need="shelter-and-accommodation",
        outcome="pending",
        consent_id=CONSENT_ID,
        referred_at=_day(8),
        recorded_at=_day(8, hour=15),
    )


def onward_referral_outcome_recorded() -> n.OnwardReferralOutcomeRecorded:
    return n.OnwardReferralOutcomeRecorded(
        **OF_CASE,
        onward_referral_id=ONWARD_REFERRAL_ID,
        outcome="accepted",
        recorded_at=_day(12, hour=10),
    )


NEEDS_EXAMPLES: dict[str, Callable[[], ContractModel]] = {
    "gmirs.case.contact-attempted.v1": contact_attempted,
    "gmirs.case.outcome-assessment-recorded.v1": outcome_assessment_recorded,
    "gmirs.case.consent-given.v1": consent_given,
    "gmirs.case.consent-withdrawn.v1": consent_withdrawn,
    "gmirs.case.onward-referral-made.v1": onward_referral_made,
    "gmirs.case.onward-referral-outcome-recorded.v1": onward_referral_outcome_recorded,
}
