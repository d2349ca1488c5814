"""The pilot caseload CSV's columns: R&M's referral performance export plus what a hub needs.

The export columns keep R&M's names (crs_performance_report-v2-referrals), so the lead provider
can start from the export and add the hub's columns beside it. docs/pilot-import.md describes
every column; this module is the one list the importer checks a file's header against.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

LONDON = ZoneInfo("Europe/London")
LIST_SEPARATOR = "|"
CATEGORY_SLOTS = ("", "_2", "_3", "_4")
"""A referral names one to four service categories (GMIRS well-being has four)."""
CATEGORY_CELLS = ("service_category", "complexity", "desired_outcomes")
"""The cells of one service category, each suffixed by its slot."""

REFERRAL_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$"

RM_EXPORT_COLUMNS = (
    "referral_ref",
    "referral_id",
    "crs_contract_reference",
    "crs_contract_type",
    "crs_provider_id",
    "referring_officer_id",
    "relevant_sentence_id",
    "service_user_crn",
    "date_referral_received",
    "date_first_action_plan_submitted",
    "date_of_first_action_plan_approval",
    "outcomes_to_be_achieved_count",
    "outcomes_progress",
    "count_of_sessions_expected",
    "count_of_sessions_attended",
    "date_intervention_ended",
    "intervention_end_reason",
    "date_end_of_service_report_submitted",
    "intervention_end_reason_code",
    "intervention_end_reason_description",
    "intervention_concluded_at",
)
HUB_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "ethnicity",
    "preferred_language",
    "disabilities",
    "probation_delivery_unit",
    *(f"{name}{slot}" for slot in CATEGORY_SLOTS for name in CATEGORY_CELLS),
    "referring_practitioner_name",
    "referring_practitioner_email",
    "referring_practitioner_phone",
    "additional_needs",
    "accessibility_needs",
    "needs_interpreter",
    "interpreter_language",
    "has_additional_responsibilities",
    "when_unavailable",
    "risk_summary",
    "supplementary_risk_id",
    "completion_deadline",
    "reason_for_referral",
)
COLUMNS = (*RM_EXPORT_COLUMNS, *HUB_COLUMNS)
REQUIRED_COLUMNS = frozenset(
    {
        "referral_ref",
        "service_user_crn",
        "date_referral_received",
        "given_name",
        "family_name",
        "probation_delivery_unit",
        "service_category",
        "complexity",
        "referring_practitioner_name",
        "referring_practitioner_email",
    }
)
"""Columns a file must have and every row must fill; all others may be left out or blank."""


def _when(value: Any) -> Any:
    """A date (midnight in London), a local date-time (London) or one with an offset; kept in UTC."""
    if not isinstance(value, str):
        return value
    try:
        if len(value) == len("2024-01-31"):
            parsed = datetime.combine(date.fromisoformat(value), time(), LONDON)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD) or date-time (ISO 8601)") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)).astimezone(UTC)


When = Annotated[AwareDatetime, BeforeValidator(_when)]
Short = Annotated[str, Field(max_length=100)]
Count = Annotated[int, Field(ge=0)]


class RmExportColumns(BaseModel):
    """The export's own columns (those not part of the referral itself), checked by type."""

    model_config = ConfigDict(extra="forbid")

    referral_ref: Annotated[str, Field(pattern=REFERRAL_REF_PATTERN)]
    referral_id: uuid.UUID | None = None
    crs_contract_type: Short | None = None
    crs_provider_id: Short | None = None
    referring_officer_id: Short | None = None
    relevant_sentence_id: Short | None = None
    date_referral_received: When
    date_first_action_plan_submitted: When | None = None
    date_of_first_action_plan_approval: When | None = None
    outcomes_to_be_achieved_count: Count | None = None
    outcomes_progress: Annotated[float, Field(ge=0)] | None = None
    count_of_sessions_expected: Count | None = None
    count_of_sessions_attended: Count | None = None
    date_intervention_ended: When | None = None
    intervention_end_reason: Literal["completed", "cancelled", "ended"] | None = None
    date_end_of_service_report_submitted: When | None = None
    intervention_end_reason_code: Annotated[str, Field(max_length=20)] | None = None
    intervention_end_reason_description: Annotated[str, Field(max_length=500)] | None = None
    intervention_concluded_at: When | None = None


def header_problems(header: list[str]) -> list[str]:
    """Why a header cannot be imported (missing, unknown or repeated columns), or nothing."""
    if not set(header) & set(COLUMNS):
        return ["the first row is not the header (it names no known column)"]
    problems = []
    missing = [c for c in COLUMNS if c in REQUIRED_COLUMNS and c not in header]
    if missing:
        problems.append("missing required columns: " + ", ".join(missing))
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        problems.append("unknown columns: " + ", ".join(unknown))
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        problems.append("repeated columns: " + ", ".join(repeated))
    return problems


def row_ref(cells: Mapping[str, str]) -> str | None:
    """A row's referral_ref when it is well formed (reports never echo a malformed cell)."""
    value = (cells.get("referral_ref") or "").strip()
    return value if re.match(REFERRAL_REF_PATTERN, value) else None
