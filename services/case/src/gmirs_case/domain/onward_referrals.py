"""Onward referrals: the person referred to another agency for one of their needs.

A referral sends the agency the person's contact details and the need, so it is sharing beyond
the statutory reports to the probation practitioner: refused unless a consent covers that agency
for both at the referral's time (`may_share` gives the reason, which the refusal shows).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from gmirs_case.domain.consent import Consent, ShareScope, may_share
from gmirs_case.domain.model import CaseError
from gmirs_case.domain.outcomes import OutcomeArea

SHARED = (ShareScope.CONTACT_DETAILS, ShareScope.NEEDS)
"""What an onward referral tells the agency."""


class ReferralOutcome(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NO_RESPONSE = "no-response"


class SharingRefusedError(CaseError):
    """No consent covers what the referral would share (the message is `may_share`'s reason)."""


class OnwardReferralInFutureError(CaseError):
    pass


class OutcomeNotSettledError(CaseError):
    """An outcome recorded later is what the agency did: it cannot be `pending` again."""


@dataclass(frozen=True, slots=True)
class OnwardReferral:
    id: uuid.UUID
    agency: str
    need: OutcomeArea
    referred_at: datetime
    outcome: ReferralOutcome
    consent_id: uuid.UUID
    recorded_at: datetime
    outcome_recorded_at: datetime | None = None


def refer_onward(
    consents: Sequence[Consent],
    *,
    agency: str,
    need: OutcomeArea,
    referred_at: datetime,
    outcome: ReferralOutcome,
    now: datetime,
) -> OnwardReferral:
    """The referral, if a consent lets the agency have what it would receive."""
    if referred_at > now:
        raise OnwardReferralInFutureError("referred_at is in the future")
    decisions = [may_share(consents, agency, scope, referred_at) for scope in SHARED]
    refused = next((d for d in decisions if not d.allowed), None)
    if refused is not None:
        raise SharingRefusedError(refused.reason)
    consent_id = decisions[0].consent_id
    assert consent_id is not None  # an allowed decision names its consent
    agency = " ".join(agency.split())
    return OnwardReferral(uuid.uuid4(), agency, need, referred_at, outcome, consent_id, now)


def settle_outcome(
    referral: OnwardReferral, outcome: ReferralOutcome, *, now: datetime
) -> OnwardReferral | None:
    """The referral with the agency's answer, or None when it already says so (a retry)."""
    if outcome is ReferralOutcome.PENDING:
        raise OutcomeNotSettledError("an onward referral's outcome cannot go back to pending")
    if referral.outcome is outcome:
        return None
    return replace(referral, outcome=outcome, outcome_recorded_at=now)
