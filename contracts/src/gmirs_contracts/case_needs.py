"""Payloads on `case.case-events.v1` about contact attempts, needs and consent to share.

For metrics: contacts by method including unsuccessful attempts (Appendix A indicator 7) and
records made within one business day of contact (KP1, `occurred_at` against `recorded_at`); the
distance-travelled tool's timing (DS4) and its 1-10 scores per outcome area. For notify and later
sharing features: which named partner may receive what; onward referrals to other agencies and
their outcomes (Appendix A: referred on). No names, CRNs or free text: partners are
organisations, and the scores are the platform's own scale, not anyone's words.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import (
    AssessmentStage,
    Complexity,
    ContactMethod,
    ContactOutcome,
    HubId,
    OutcomeArea,
    ShareScope,
)

Score = Annotated[int, Field(ge=1, le=10)]
PartnerName = Annotated[str, Field(min_length=1, max_length=200)]


class _OfCase(ContractModel):
    case_id: UUID
    referral_id: UUID
    hub_id: HubId


class ContactAttempted(_OfCase):
    """`gmirs.case.contact-attempted.v1`: the hub tried to reach the person, successfully or not."""

    contact_id: UUID
    method: ContactMethod
    outcome: ContactOutcome
    successful: bool
    occurred_at: AwareDatetime = Field(description="When the attempt was made.")
    recorded_at: AwareDatetime = Field(description="When case recorded it (KP1).")


class AreaScores(ContractModel):
    """One outcome area's scores on the platform's own 1-10 scale (10: no need in the area)."""

    area: OutcomeArea
    complexity: Complexity | None = Field(description="Assessed complexity (baseline only).")
    self_score: Score = Field(description="The person's own score.")
    staff_score: Score = Field(description="The worker's score.")


class OutcomeAssessmentRecorded(_OfCase):
    """`gmirs.case.outcome-assessment-recorded.v1`: the distance-travelled tool was completed.

    `corrects` names the assessment this one replaces (a correction), null otherwise.
    """

    assessment_id: UUID
    stage: AssessmentStage
    corrects: UUID | None
    areas: Annotated[list[AreaScores], Field(min_length=1, max_length=12)]
    occurred_at: AwareDatetime = Field(description="When the tool was completed with the person.")
    recorded_at: AwareDatetime


class ConsentGiven(_OfCase):
    """`gmirs.case.consent-given.v1`: the person consented to sharing `scopes` with `partner`."""

    consent_id: UUID
    partner: PartnerName
    scopes: Annotated[list[ShareScope], Field(min_length=1, max_length=4)]
    given_at: AwareDatetime
    recorded_at: AwareDatetime


class ConsentWithdrawn(_OfCase):
    """`gmirs.case.consent-withdrawn.v1`: from `withdrawn_at` nothing more goes to `partner`."""

    consent_id: UUID
    partner: PartnerName
    withdrawn_at: AwareDatetime
    recorded_at: AwareDatetime


OnwardReferralOutcome = Literal["pending", "accepted", "declined", "no-response"]


class OnwardReferralMade(_OfCase):
    """`gmirs.case.onward-referral-made.v1`: the person was referred on to another agency.

    Appendix A indicator "referred on": the agency (an organisation, as the consent names it),
    the need it is for and when; the consent that allowed it.
    """

    onward_referral_id: UUID
    agency: PartnerName
    need: OutcomeArea
    outcome: OnwardReferralOutcome
    consent_id: UUID
    referred_at: AwareDatetime
    recorded_at: AwareDatetime


class OnwardReferralOutcomeRecorded(_OfCase):
    """`gmirs.case.onward-referral-outcome-recorded.v1`: the agency accepted, declined or never
    answered an onward referral."""

    onward_referral_id: UUID
    outcome: OnwardReferralOutcome
    recorded_at: AwareDatetime
