"""Recognise a probation delivery unit however a source spells it.

nDelius and R&M write unit names with suffixes and prefixes ("Manchester North PDU", "GM -
Bolton"); intake publishes one of the eleven names or nothing. A name that is not recognised is
not an error: the referral is kept with the source's text and held for the lead provider.
"""

from __future__ import annotations

import re
from typing import get_args

from gmirs_contracts.common import ProbationDeliveryUnit

PDUS: tuple[ProbationDeliveryUnit, ...] = get_args(ProbationDeliveryUnit)
_BY_KEY: dict[str, ProbationDeliveryUnit] = {name.casefold(): name for name in PDUS}
_NOISE = re.compile(
    r"\b(?:probation delivery unit|pdu|greater manchester|gm|probation|nps)\b|[^a-z ]", re.I
)


def normalise_pdu(text: str | None) -> ProbationDeliveryUnit | None:
    """One of the eleven unit names, or None when `text` names none of them."""
    if not text:
        return None
    key = " ".join(_NOISE.sub(" ", text.casefold()).split())
    return _BY_KEY.get(key)
