"""Mitigation: the hub's recorded reason why a measured step could not happen in time.

DS2 (assessed within ten working days of referral) and KP6 (an intervention appointment within
ten working days) are counted "inclusive of mitigation". The hub records the circumstance (the
person in custody, unwell, asking for a later date, unreachable despite attempts, or waiting
on the probation practitioner) with when it arose; metrics decides, by its own documented
reading, how a mitigation counts. The optional note is the worker's words and stays here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gmirs_case.domain.model import CaseError


class MitigatedMeasure(StrEnum):
    DS2 = "DS2"
    KP6 = "KP6"


class MitigationReason(StrEnum):
    POP_UNWELL = "pop-unwell"
    POP_IN_CUSTODY = "pop-in-custody"
    POP_REQUESTED_LATER_DATE = "pop-requested-later-date"
    POP_UNREACHABLE_DESPITE_ATTEMPTS = "pop-unreachable-despite-attempts"
    AWAITING_PROBATION_PRACTITIONER = "awaiting-probation-practitioner"
    OTHER = "other"


class MitigationInFutureError(CaseError):
    """A circumstance is recorded once it has arisen."""


@dataclass(frozen=True, slots=True)
class Mitigation:
    id: uuid.UUID
    measure: MitigatedMeasure
    reason: MitigationReason
    note: str | None
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str


def record_mitigation(
    *,
    measure: MitigatedMeasure,
    reason: MitigationReason,
    note: str | None,
    occurred_at: datetime,
    recorded_by: str,
    now: datetime,
) -> Mitigation:
    """A new mitigation recorded at `now`; one dated after `now` is refused."""
    if occurred_at > now:
        raise MitigationInFutureError("occurred_at is in the future: record it once it arose")
    return Mitigation(uuid.uuid4(), measure, reason, note, occurred_at, now, recorded_by)
