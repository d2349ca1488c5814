"""Consent to share information with named partners, and the one rule every sharing obeys.

Beyond the statutory reports to the probation practitioner, nothing about a person goes to
another agency unless a consent covers that partner and that scope at that moment: given
before it, not withdrawn by then. `may_share` is the only place that decides, and it says why,
so a refusal can name its reason. Partners are matched by name, ignoring case and spacing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from gmirs_case.domain.model import CaseError


class ShareScope(StrEnum):
    CONTACT_DETAILS = "contact-details"
    NEEDS = "needs"
    PROGRESS = "progress"
    ALL = "all"


class ConsentError(CaseError):
    """A consent change the rules refuse."""


class ConsentAlreadyWithdrawnError(ConsentError):
    pass


@dataclass(frozen=True, slots=True)
class Consent:
    id: uuid.UUID
    partner: str
    scopes: tuple[ShareScope, ...]
    given_at: datetime
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None = None
    withdrawal_recorded_at: datetime | None = None

    def covers(self, partner: str, scope: ShareScope, at: datetime) -> bool:
        return (
            same_partner(self.partner, partner)
            and (scope in self.scopes or ShareScope.ALL in self.scopes)
            and self.given_at <= at
            and (self.withdrawn_at is None or at < self.withdrawn_at)
        )


@dataclass(frozen=True, slots=True)
class SharingDecision:
    allowed: bool
    reason: str
    consent_id: uuid.UUID | None = None


def same_partner(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def give_consent(
    *,
    partner: str,
    scopes: Iterable[ShareScope],
    given_at: datetime,
    recorded_by: str,
    now: datetime,
) -> Consent:
    """A new consent; one dated in the future, or with no scope, is refused."""
    ordered = tuple(sorted(set(scopes)))
    if not ordered:
        raise ConsentError("a consent names at least one scope")
    if given_at > now:
        raise ConsentError("given_at is in the future: record a consent once it is given")
    partner = " ".join(partner.split())
    if not partner:
        raise ConsentError("partner names the partner organisation")
    return Consent(uuid.uuid4(), partner, ordered, given_at, recorded_by, recorded_at=now)


def withdraw(consent: Consent, *, withdrawn_at: datetime, now: datetime) -> Consent:
    """The consent ended at `withdrawn_at` (409 if it already was; not before it was given)."""
    if consent.withdrawn_at is not None:
        raise ConsentAlreadyWithdrawnError(
            f"consent is already withdrawn (since {consent.withdrawn_at.isoformat()})"
        )
    if withdrawn_at > now:
        raise ConsentError("withdrawn_at is in the future")
    if withdrawn_at < consent.given_at:
        raise ConsentError("withdrawn_at is before the consent was given")
    return replace(consent, withdrawn_at=withdrawn_at, withdrawal_recorded_at=now)


def may_share(
    consents: Iterable[Consent], partner: str, scope: ShareScope, at: datetime
) -> SharingDecision:
    """Whether `scope` may go to `partner` at `at`, and why (the reason a refusal shows)."""
    known = [c for c in consents if same_partner(c.partner, partner)]
    for consent in known:
        if consent.covers(partner, scope, at):
            return SharingDecision(True, "covered by consent", consent.id)
    if not known:
        return SharingDecision(False, "no consent to share with this partner has been recorded")
    if all(c.withdrawn_at is not None and c.withdrawn_at <= at for c in known):
        return SharingDecision(False, "consent to share with this partner has been withdrawn")
    if all(c.given_at > at for c in known):
        return SharingDecision(False, "consent to share with this partner was given later")
    return SharingDecision(False, f"no consent to share {scope.value} with this partner")
