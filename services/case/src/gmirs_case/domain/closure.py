"""Why a case closed, and how Refer and Monitor's endings map onto those reasons.

A hub closes a case with one of its own reasons. R&M ends a referral with a delivery state
(cancelled / prematurely-ended / completed) and, when the probation practitioner withdrew it, a
withdrawal code; the code says more than the state, so a reason taken from a code is settled and
a reason taken from a bare delivery state is provisional (a later-processed ending with a code
may still refine it).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final


class ClosureReason(StrEnum):
    COMPLETED = "completed"
    DISENGAGED = "disengaged"
    DECLINED = "declined"
    INAPPROPRIATE = "inappropriate"
    SIGNPOSTED_ELSEWHERE = "signposted-elsewhere"
    WITHDRAWN = "withdrawn"
    ENDED_IN_RM = "ended-in-rm"


class RmDeliveryState(StrEnum):
    """R&M's delivery state, in our vocabulary (as intake publishes it)."""

    CANCELLED = "cancelled"
    PREMATURELY_ENDED = "prematurely-ended"
    COMPLETED = "completed"


_R = ClosureReason
WITHDRAWAL_CODES: Final = MappingProxyType(
    {
        # problem with the referral
        "INE": _R.INAPPROPRIATE,  # ineligible
        "MIS": _R.INAPPROPRIATE,  # mistaken or duplicate
        # the person
        "NOT": _R.DISENGAGED,  # not engaged
        "NEE": _R.SIGNPOSTED_ELSEWHERE,  # needs met elsewhere
        "MOV": _R.WITHDRAWN,  # moved out of area
        "WOR": _R.WITHDRAWN,  # work, caring or sickness
        "USE": _R.WITHDRAWN,  # died
        # the sentence
        "ACQ": _R.WITHDRAWN,  # acquitted
        "RET": _R.WITHDRAWN,  # returned to custody
        "SER": _R.WITHDRAWN,  # sentence revoked
        "SEE": _R.WITHDRAWN,  # sentence expired
        # early completion and other
        "EAR": _R.COMPLETED,  # intervention completed early
        "ANO": _R.WITHDRAWN,  # other change of circumstance
        # legacy cancellation reasons still found on old referrals
        "DUP": _R.INAPPROPRIATE,
        "DIS": _R.DISENGAGED,
        "DIE": _R.WITHDRAWN,
        "REC": _R.WITHDRAWN,
        "END": _R.WITHDRAWN,
        "REV": _R.WITHDRAWN,
        "PPJ": _R.WITHDRAWN,
    }
)
"""R&M withdrawal (and legacy cancellation) codes -> our closure reason."""


def reason_from_rm(
    withdrawal_code: str | None, delivery_state: RmDeliveryState | None
) -> tuple[ClosureReason, bool]:
    """The closure reason for an R&M ending, and whether it is settled (taken from a code).

    An unknown code still closes the case (as ended in R&M) rather than being refused: R&M adds
    codes without notice, and the code itself travels in the closing event for reporting.
    """
    if withdrawal_code:
        return WITHDRAWAL_CODES.get(withdrawal_code.upper(), _R.ENDED_IN_RM), True
    if delivery_state is RmDeliveryState.COMPLETED:
        return _R.COMPLETED, False
    return _R.ENDED_IN_RM, False
