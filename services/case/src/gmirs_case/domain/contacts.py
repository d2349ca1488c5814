"""Contact attempts with the person on probation, successful or not.

Every attempt counts (Appendix A indicator 7 is contacts by method *including* unsuccessful
attempts), and the gap between when it happened and when it was recorded is KP1 (records made
within one business day of contact), so the record keeps both times and the server sets the
second.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gmirs_case.domain.model import CaseError


class ContactMethod(StrEnum):
    PHONE = "phone"
    TEXT = "text"
    LETTER = "letter"
    EMAIL = "email"
    IN_PERSON = "in-person"
    VIA_PROBATION_PRACTITIONER = "via-probation-practitioner"


class ContactOutcome(StrEnum):
    SUCCESSFUL = "successful"
    NO_ANSWER = "no-answer"
    MESSAGE_LEFT = "message-left"
    WRONG_NUMBER = "wrong-number"
    REFUSED = "refused"
    OTHER = "other"


class ContactInFutureError(CaseError):
    """A contact cannot be recorded before it happened."""


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    id: uuid.UUID
    method: ContactMethod
    outcome: ContactOutcome
    occurred_at: datetime
    recorded_at: datetime

    @property
    def successful(self) -> bool:
        return self.outcome is ContactOutcome.SUCCESSFUL


def attempt_contact(
    *, method: ContactMethod, outcome: ContactOutcome, occurred_at: datetime, now: datetime
) -> ContactAttempt:
    """A new attempt recorded at `now`; one dated after `now` is refused."""
    if occurred_at > now:
        raise ContactInFutureError(
            "occurred_at is in the future: record a contact once it happened"
        )
    return ContactAttempt(uuid.uuid4(), method, outcome, occurred_at, recorded_at=now)
