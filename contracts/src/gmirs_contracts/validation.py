"""Validate payloads against the published JSON Schema FILES (test-time only).

Tests import this to prove that what the code emits matches what other teams read. It needs
`jsonschema`, a development dependency, so nothing a service runs may import this module.
Error messages quote the offending values, which can be personal data: never use it in services.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from gmirs_contracts.registry import PROBATION_ALERT, WEBHOOKS, contracts_dir, event_contract

_MAX_REPORTED = 10
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)


class ContractViolation(ValueError):
    """A payload does not match its published schema; the message lists where and why."""


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time with an offset (jsonschema only checks it with an optional extra)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checks("date-time")(_is_date_time)
    return checker


@cache
def _validator(relative: PurePosixPath) -> Draft202012Validator:
    schema = json.loads((contracts_dir() / relative).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


def _location(path: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return "$" + parts


def _check(relative: PurePosixPath, what: str, instance: object) -> None:
    errors = sorted(_validator(relative).iter_errors(instance), key=lambda e: str(list(e.path)))
    if not errors:
        return
    lines = [f"{_location(e.absolute_path)}: {e.message}" for e in errors[:_MAX_REPORTED]]
    if len(errors) > _MAX_REPORTED:
        lines.append(f"... and {len(errors) - _MAX_REPORTED} more")
    raise ContractViolation(f"{what} does not match {relative}:\n  " + "\n  ".join(lines))


def validate_event(ce_type: str, data: dict[str, Any]) -> None:
    """Raise ContractViolation unless `data` matches the schema file published for `ce_type`."""
    try:
        contract = event_contract(ce_type)
    except LookupError as exc:
        raise ContractViolation(str(exc)) from None
    _check(contract.schema_path, f"data of {ce_type}", data)


def validate_webhook(body: dict[str, Any], name: str = PROBATION_ALERT.name) -> None:
    """Raise ContractViolation unless `body` matches the webhook payload `name` (e.g. ping.v1)."""
    _check(WEBHOOKS[name].schema_path, "webhook body", body)
