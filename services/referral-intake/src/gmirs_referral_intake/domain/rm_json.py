"""Typed reads of R&M's JSON that fail with a reason naming the field, never its value.

R&M's DTOs are large and loosely typed; mapping code reads only what it needs through `RmJson`,
so a missing or mistyped field becomes one UnusableMessageError that an operator can act on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gmirs_referral_intake.domain.rm_errors import UnusableMessageError

R_AND_M_ZONE = ZoneInfo("Europe/London")
"""R&M is a UK service: a date-time without an offset is taken as UK local time."""


class RmJson:
    """A JSON object from R&M and where it came from (for reasons like `session.appointmentTime`)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise UnusableMessageError(f"{where}: not an object")
        self.data: Mapping[str, Any] = data
        self.where = where

    def _fail(self, key: str, problem: str) -> UnusableMessageError:
        return UnusableMessageError(f"{self.where}.{key}: {problem}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def obj(self, key: str) -> RmJson:
        if not self.has(key):
            raise self._fail(key, "missing")
        return RmJson(self.data[key], f"{self.where}.{key}")

    def opt_obj(self, key: str) -> RmJson | None:
        return self.obj(key) if self.has(key) else None

    def objects(self, key: str) -> list[RmJson]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise self._fail(key, "not a list")
        return [RmJson(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(value)]

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "not a list of strings")
        return list(value)

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self._fail(key, "not text")
        return str(value)

    def text(self, key: str) -> str:
        value = self.opt_text(key)
        if not value:
            raise self._fail(key, "missing")
        return value

    def opt_flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "not a boolean")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise self._fail(key, "not an integer")
        return value

    def opt_id(self, key: str) -> uuid.UUID | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            raise self._fail(key, "not a UUID") from None

    def id(self, key: str) -> uuid.UUID:
        value = self.opt_id(key)
        if value is None:
            raise self._fail(key, "missing")
        return value

    def opt_when(self, key: str) -> datetime | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self._fail(key, "not an ISO-8601 date-time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=R_AND_M_ZONE)

    def when(self, key: str) -> datetime:
        value = self.opt_when(key)
        if value is None:
            raise self._fail(key, "missing")
        return value

    def opt_day(self, key: str) -> date | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise self._fail(key, "not an ISO-8601 date") from None
