"""The person on a case, and who works on it: pure rules, no infrastructure.

What the referral said about the person is kept as it arrived; only the contact details are the
hub's to correct, each correction bumping a version so two editors cannot overwrite each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


class StaleVersionError(Exception):
    """The caller edited an older version of the contact details than the one stored."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the contact details are at version {current}")
        self.current = current


@dataclass(frozen=True, slots=True)
class CasePerson:
    case_id: uuid.UUID
    crn: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    referral: dict[str, Any]
    """Person, needs, service categories and practitioner, as the referral carried them."""
    contact: dict[str, Any]
    contact_version: int
    contact_updated_at: datetime | None = None
    contact_updated_by: str | None = None


def search_name(given_name: str, family_name: str) -> str:
    """The name as a search compares it: case-folded, single-spaced (indexable by prefix)."""
    return normalised_name(f"{given_name} {family_name}")


def normalised_name(text: str) -> str:
    """`text` case-folded and single-spaced, as names are stored for search and searched for."""
    return " ".join(text.casefold().split())


def corrected_contact(
    person: CasePerson, changes: dict[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """The contact details with `changes` applied (a None value clears a field)."""
    if expected_version != person.contact_version:
        raise StaleVersionError(person.contact_version)
    merged = {**person.contact, **changes}
    return {key: value for key, value in merged.items() if value is not None}


@dataclass(frozen=True, slots=True)
class WorkerAssignment:
    """The caseworker holding a referral's case; the latest `assigned_at` wins."""

    referral_id: uuid.UUID
    worker: str
    source: str
    assigned_at: datetime
    assigned_by: str

    def supersedes(self, other: WorkerAssignment | None) -> bool:
        return other is None or self.assigned_at >= other.assigned_at
