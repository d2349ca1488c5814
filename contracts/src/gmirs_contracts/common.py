"""Field types shared by several contexts, so one rule (a CRN pattern, a PDU name) lives once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

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

# C0 and C1 controls, and the bidirectional embeddings, overrides and isolates that can make text
# display in another order than it is stored (U+202A-U+202E, U+2066-U+2069, "Trojan Source").
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = r"\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_PATTERN = rf"^[^\t\n\r{_CONTROLS}{_BIDI}]*$"
FREE_TEXT_PATTERN = rf"^[^{_CONTROLS}{_BIDI}]*$"
Line = Annotated[str, Field(pattern=SINGLE_LINE_PATTERN)]
"""One line of text (a name, a label): no control or bidirectional-override characters."""
FreeText = Annotated[str, Field(pattern=FREE_TEXT_PATTERN)]
"""Free text: newlines and tabs allowed, other control and bidi-override characters not."""

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]


def _not_a_number(value: object) -> object:
    """JSON numbers are not dates: pydantic's lax mode reads 0 as 1970-01-01 (Unix time)."""
    if isinstance(value, int | float):
        raise ValueError("must be an ISO 8601 string, not a number")
    return value


def _years_from_today(years: int) -> date:
    today = datetime.now(UTC).date()
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def _plausible_moment(value: datetime) -> datetime:
    now = datetime.now(UTC)
    if not now - timedelta(days=365 * 5) <= value <= now + timedelta(days=365 * 5):
        raise ValueError("must be within five years of today")
    return value


def _plausible_birth(value: date) -> date:
    if not date(1900, 1, 1) <= value <= _years_from_today(-10):
        raise ValueError("must be a date of birth from 1900 to ten years ago")
    return value


def _plausible_day(value: date) -> date:
    if not _years_from_today(-5) <= value <= _years_from_today(5):
        raise ValueError("must be within five years of today")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_plausible_moment)]
"""A date-time with its offset, sent as a string, within five years of now (no 1970s, no 2300s)."""
Day = Annotated[date, BeforeValidator(_not_a_number), AfterValidator(_plausible_day)]
"""A calendar date sent as a string, within five years of today (deadlines and the like)."""
DateOfBirth = Annotated[date, BeforeValidator(_not_a_number), AfterValidator(_plausible_birth)]
"""A plausible date of birth sent as a string: from 1900 to ten years ago."""

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

OutcomeArea = Literal[
    "emotional-and-mental-health",
    "physical-health",
    "shelter-and-accommodation",
    "family-friends-and-children",
    "education-skills-and-employment",
    "drugs-and-alcohol",
    "finance-and-benefits",
    "outlook-and-attitudes",
    "social-interactions-and-networks",
    "meaningful-use-of-time",
    "motivation-to-desist-from-offending",
    "self-care-and-living-skills",
]
"""The specification's twelve outcome areas (section 1.9), in its order."""
Complexity = Literal["low", "medium", "high"]
ContactMethod = Literal[
    "phone", "text", "letter", "email", "in-person", "via-probation-practitioner"
]
ContactOutcome = Literal[
    "successful", "no-answer", "message-left", "wrong-number", "refused", "other"
]
AssessmentStage = Literal["baseline", "review", "exit"]
ShareScope = Literal["contact-details", "needs", "progress", "all"]
"""What a consent lets the provider share with a named partner (`all` covers the others)."""

Source = Literal["hub", "refer-and-monitor"]
"""Who recorded a fact: a hub through the case API, or Refer and Monitor (through intake)."""
