"""Field types shared by several contexts, so one rule (a CRN pattern, a PDU name) lives once."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

Crn = Annotated[
    str,
    Field(pattern=r"^[A-Z][0-9]{6}$", description="Case reference number (nDelius), e.g. X123456."),
]
REFERENCE_NUMBER_PATTERN = r"^[A-Z]{2}[0-9]{4}[A-Z]{2}$"
ReferenceNumber = Annotated[
    str,
    Field(
        pattern=REFERENCE_NUMBER_PATTERN,
        description="Refer and Monitor referral reference: two letters, four digits, two letters.",
    ),
]
HubId = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9-]*$",
        max_length=64,
        description="The hub (sub-contracted provider) id, a lowercase slug such as 'bolton'.",
    ),
]
NonEmpty = Annotated[str, Field(min_length=1)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]

ProbationDeliveryUnit = Literal[
    "Bolton",
    "Bury",
    "Manchester North",
    "Manchester South",
    "Oldham",
    "Rochdale",
    "Salford",
    "Stockport",
    "Tameside",
    "Trafford",
    "Wigan",
]
"""The 11 Greater Manchester probation delivery units."""

AppointmentKind = Literal["initial-assessment", "session"]
DeliveryType = Literal["phone-call", "video-call", "in-person-probation-office", "in-person-other"]
Attended = Literal["yes", "late", "no"]
NoSessionReason = Literal["pop-acceptable", "pop-unacceptable", "logistics"]
"""Why a session did not happen although the person attended (R&M's categories)."""
