"""One row of the pilot caseload CSV, checked by the same rules as a direct referral.

A row is a flat direct referral plus R&M's performance-export columns. Its referral part is
validated by the direct-referral schema (entrypoints/schemas.py), so a field has one rule
whichever way the referral arrives. Reasons name the column and the rule, never the value: the
report goes to people who may not see the person's data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gmirs_contracts.common import REFERENCE_NUMBER_PATTERN
from gmirs_referral_intake.adapters.pilot_columns import (
    CATEGORY_CELLS,
    CATEGORY_SLOTS,
    COLUMNS,
    LIST_SEPARATOR,
    RmExportColumns,
    row_ref,
)
from gmirs_referral_intake.domain.pdu import normalise_pdu
from gmirs_referral_intake.entrypoints.schemas import DirectReferralCreate
from gmirs_referral_intake.handlers.pilot_import import PilotRow, RowRejected

_Model = TypeVar("_Model", RmExportColumns, DirectReferralCreate)
_R_AND_M_REFERENCE = re.compile(REFERENCE_NUMBER_PATTERN)
_LISTS = frozenset({"disabilities", *(f"desired_outcomes{s}" for s in CATEGORY_SLOTS)})
_PATHS: dict[tuple[str | int, ...], str] = {
    ("probation_delivery_unit",): "probation_delivery_unit",
    ("contract_reference",): "crs_contract_reference",
    ("sent_at",): "date_referral_received",
    ("completion_deadline",): "completion_deadline",
    ("reason_for_referral",): "reason_for_referral",
    ("person", "crn"): "service_user_crn",
    **{
        ("person", field): field
        for field in (
            "given_name",
            "family_name",
            "date_of_birth",
            "gender",
            "ethnicity",
            "preferred_language",
            "disabilities",
        )
    },
    **{
        ("service_categories", index, field): f"{column}{slot}"
        for index, slot in enumerate(CATEGORY_SLOTS)
        for field, column in (
            ("name", "service_category"),
            ("complexity", "complexity"),
            ("desired_outcomes", "desired_outcomes"),
        )
    },
    **{
        ("referring_practitioner", f): f"referring_practitioner_{f}"
        for f in ("name", "email", "phone")
    },
    **{
        ("needs", field): field
        for field in (
            "additional_needs",
            "accessibility_needs",
            "needs_interpreter",
            "interpreter_language",
            "has_additional_responsibilities",
            "when_unavailable",
        )
    },
    ("risk", "summary"): "risk_summary",
    ("risk", "supplementary_risk_id"): "supplementary_risk_id",
}
_COLUMN_PATHS = {column: path for path, column in _PATHS.items()}
_FORMATS = {
    "service_user_crn": "a letter and six digits, e.g. X123456",
    "referring_practitioner_email": "an email address",
    "referral_ref": "letters, digits and _ . / - only",
}


def parse_row(cells: Mapping[str, str]) -> PilotRow | RowRejected:
    """Validate one row (cells by column name, blanks allowed) into a referral or reasons."""
    values = {name: cell.strip() for name, cell in cells.items() if cell and cell.strip()}
    reasons: list[tuple[str, str]] = []
    export = _validate(RmExportColumns, _export_fields(values), reasons, _export_column)
    body = _referral_fields(values, export)
    referral = _validate(DirectReferralCreate, body, reasons, _column)
    if export and export.intervention_concluded_at is not None:
        reasons.append(("intervention_concluded_at", "the referral has concluded; not handed over"))
    if reasons or export is None or referral is None:
        ref = export.referral_ref if export else row_ref(values)
        return RowRejected(ref, _ordered(reasons))
    ref = export.referral_ref
    reference = ref if _R_AND_M_REFERENCE.match(ref) else None
    data = referral.model_dump(mode="json")
    data["reference_number"] = reference
    data["rm_referral_id"] = str(export.referral_id) if export.referral_id else None
    progress = export.model_dump(mode="json", exclude={"referral_ref", "referral_id"})
    return PilotRow(ref, reference, export.referral_id, data, progress)


def _validate(
    model: type[_Model],
    fields: dict[str, Any],
    reasons: list[tuple[str, str]],
    column_of: Callable[[tuple[str | int, ...]], str],
) -> _Model | None:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            column = column_of(error["loc"])
            reasons.append((column, _reason(error, column)))
        return None


def _ordered(reasons: list[tuple[str, str]]) -> tuple[str, ...]:
    """One reason per column and rule, in the file's column order."""
    order = {name: i for i, name in enumerate(COLUMNS)}
    unique = sorted(set(reasons), key=lambda r: (order.get(r[0], len(order)), r[1]))
    return tuple(f"{column}: {why}" for column, why in unique)


def _export_fields(values: Mapping[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {n: v for n, v in values.items() if n in RmExportColumns.model_fields}
    if "intervention_end_reason" in fields:
        fields["intervention_end_reason"] = fields["intervention_end_reason"].lower()
    return fields


def _referral_fields(values: Mapping[str, str], export: RmExportColumns | None) -> dict[str, Any]:
    """The nested direct-referral body the flat columns stand for (blank cells left out)."""
    body: dict[str, Any] = {"person": {}, "referring_practitioner": {}, "needs": {}, "risk": {}}
    body["service_categories"] = [{} for _ in range(_category_count(values))]
    for column, value in values.items():
        path = _COLUMN_PATHS.get(column)
        if path is None or path == ("sent_at",):
            continue
        target: Any = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = _normalised(column, value)
    # The received date is parsed with the export columns; when it is bad, that reports it.
    if export is not None:
        body["sent_at"] = export.date_referral_received.isoformat()
    else:
        body["sent_at"] = "1970-01-01T00:00:00+00:00"
    return body


def _category_count(values: Mapping[str, str]) -> int:
    """Slots up to the last one used; the first always (a gap is reported as missing cells)."""
    used = [
        index
        for index, slot in enumerate(CATEGORY_SLOTS)
        if any(f"{name}{slot}" in values for name in CATEGORY_CELLS)
    ]
    return max(used, default=0) + 1


_YES_NO = {
    **dict.fromkeys(("yes", "y", "true", "t", "on", "1"), True),
    **dict.fromkeys(("no", "n", "false", "f", "off", "0"), False),
}
"""The spellings a pilot cell may use for yes/no (the API itself takes JSON booleans only)."""
_YES_NO_COLUMNS = frozenset({"needs_interpreter", "has_additional_responsibilities"})


def _normalised(column: str, value: str) -> Any:
    if column in _YES_NO_COLUMNS:
        return _YES_NO.get(value.lower(), value)  # anything else is refused as not a boolean
    if column in _LISTS:
        return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]
    if column == "probation_delivery_unit":
        return normalise_pdu(value) or value
    if column.startswith("complexity"):
        return value.lower().removesuffix("complexity").strip()
    return value


def _export_column(loc: tuple[str | int, ...]) -> str:
    return str(loc[0])


def _column(loc: tuple[str | int, ...]) -> str:
    """The CSV column a validation error's location stands for (the longest known prefix)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in _PATHS:
            return _PATHS[loc[:end]]
    return ".".join(str(part) for part in loc)


_REASONS = {
    "missing": "required",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    "string_too_long": "too long",
    "too_long": "too many items",
    "date_parsing": "not a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "not a date (YYYY-MM-DD)",
    "uuid_parsing": "not a UUID",
    "bool_parsing": "not yes or no",
    "int_parsing": "not a whole number",
    "int_from_float": "not a whole number",
    "float_parsing": "not a number",
    "greater_than_equal": "must not be negative",
}


def _reason(error: ErrorDetails, column: str) -> str:
    """Words for a failed rule; pydantic's own messages can quote the input, so they are not used."""
    kind, context = error["type"], error.get("ctx", {})
    if kind == "string_pattern_mismatch":
        return f"wrong format ({_FORMATS[column]})" if column in _FORMATS else "wrong format"
    if kind == "literal_error":
        return f"must be one of {context['expected']}"
    if kind == "value_error":
        return str(context["error"])
    return _REASONS.get(kind, f"invalid ({kind})")
