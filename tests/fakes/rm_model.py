"""What the R&M simulator holds: referrals and everything hanging off them, plus reference data.

Mutable on purpose: scenario control changes a referral step by step, as providers do in R&M. The
shapes R&M serves are built from these in `rm_dto`; the events in `rm_events`.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
CONTRACT_TYPE_NAME = "Personal Wellbeing"
PRIME_PROVIDER = {"id": "GMIRS_WBS", "name": "GMIRS Well-being Service"}
SYSTEM_USER = {"username": "hmpps-interventions-service", "authSource": "urn:hmpps:interventions"}
_NAMESPACE = uuid.UUID("6f1d7c52-3a7e-4c1b-9b1e-2f0c1a9d5e01")

# GM's eleven probation delivery units and the borough each one's contract names.
PDU_BOROUGHS = {
    "Bolton": "BOLTON",
    "Bury": "BURY",
    "Manchester North": "MANCHESTER",
    "Manchester South": "MANCHESTER",
    "Oldham": "OLDHAM",
    "Rochdale": "ROCHDALE",
    "Salford": "SALFORD",
    "Stockport": "STOCKPORT",
    "Tameside": "TAMESIDE",
    "Trafford": "TRAFFORD",
    "Wigan": "WIGAN",
}
PWB_CATEGORIES = (
    "Lifestyle and Associates",
    "Family and Significant Others",
    "Emotional Wellbeing",
    "Social Inclusion",
)
COMPLEXITIES = ("LOW", "MEDIUM", "HIGH")
_FIRST = ("Alex", "Sam", "Jordan", "Casey", "Robin", "Jamie", "Morgan", "Riley")
_LAST = ("Example", "Sample", "Testcase", "Placeholder", "Fixture", "Dummy")


def stable_id(*parts: str) -> uuid.UUID:
    """Reference data ids that are the same in every run, like R&M's seeded ones."""
    return uuid.uuid5(_NAMESPACE, "/".join(parts))


def category_id(name: str) -> uuid.UUID:
    return stable_id("service-category", name)


def complexity_id(category: str, level: str) -> uuid.UUID:
    return stable_id("complexity", category, level)


def outcome_ids(category: str) -> list[uuid.UUID]:
    return [stable_id("desired-outcome", category, str(n)) for n in range(1, 4)]


def contract_reference(pdu: str) -> str | None:
    """GMIRS well-being is one R&M contract per borough."""
    borough = PDU_BOROUGHS.get(pdu)
    return f"DN671065_{borough}_PWB" if borough else None


def now() -> datetime:
    return datetime.now(UTC)


def user(username: str, auth_source: str = "auth") -> dict[str, str]:
    """An AuthUserDTO; the id is derived from the name, as HMPPS Auth would keep it stable."""
    return {
        "username": username,
        "authSource": auth_source,
        "userId": str(stable_id("user", username)),
    }


@dataclass
class Feedback:
    """Attendance and session feedback for one appointment, submitted at once."""

    attended: str  # yes | late | no
    did_session_happen: bool
    session: dict[str, Any]
    submitted_at: datetime
    submitted_by: dict[str, str]


@dataclass
class Appointment:
    id: uuid.UUID
    appointment_time: datetime
    duration_minutes: int
    delivery_type: str = "PHONE_CALL"
    session_type: str = "ONE_TO_ONE"
    nps_office_code: str | None = None
    address: dict[str, str] | None = None
    delius_appointment_id: int | None = None
    superseded: bool = False
    feedback: Feedback | None = None
    draft_attendance: dict[str, Any] | None = None  # recorded, not yet submitted (R&M's drafts)
    draft_session: dict[str, Any] | None = None


@dataclass
class ActionPlan:
    id: uuid.UUID
    referral_id: uuid.UUID
    number_of_sessions: int
    activities: list[dict[str, Any]]
    created_at: datetime
    created_by: dict[str, str]
    submitted_at: datetime | None = None
    submitted_by: dict[str, str] | None = None
    approved_at: datetime | None = None
    approved_by: dict[str, str] | None = None


@dataclass
class EndOfServiceReport:
    id: uuid.UUID
    referral_id: uuid.UUID
    created_at: datetime
    created_by: dict[str, str]
    submitted_at: datetime
    submitted_by: dict[str, str]
    further_information: str
    outcomes: list[dict[str, Any]]


@dataclass
class Referral:
    """One sent referral and its progress; `details` is the free-text part a PP wrote."""

    id: uuid.UUID
    reference_number: str
    sent_at: datetime
    sent_by: dict[str, str]
    service_user: dict[str, Any]
    pdu: str
    contract_reference: str | None
    categories: dict[str, str]  # service category name -> complexity (LOW/MEDIUM/HIGH)
    details: dict[str, Any]
    relevant_sentence_id: int
    supplementary_risk_id: uuid.UUID
    assigned_to: dict[str, str] | None = None
    assigned_at: datetime | None = None
    action_plan_ids: list[uuid.UUID] = field(default_factory=list)
    supplier_assessment_id: uuid.UUID = field(default_factory=uuid.uuid4)
    assessment: list[Appointment] = field(default_factory=list)
    sessions: dict[int, list[Appointment]] = field(default_factory=dict)
    eosr_id: uuid.UUID | None = None
    end_requested_at: datetime | None = None
    end_reason: dict[str, str] | None = None
    withdrawal: dict[str, str] | None = None  # code, comments, state
    concluded_at: datetime | None = None

    @property
    def crn(self) -> str:
        return str(self.service_user["crn"])


@dataclass
class RmStore:
    """Every object by id, and the random source for generated identifiers."""

    rng: random.Random = field(default_factory=random.Random)
    referrals: dict[uuid.UUID, Referral] = field(default_factory=dict)
    action_plans: dict[uuid.UUID, ActionPlan] = field(default_factory=dict)
    reports: dict[uuid.UUID, EndOfServiceReport] = field(default_factory=dict)
    _delius_ids: int = 2_500_000_000

    def clear(self) -> None:
        self.referrals.clear()
        self.action_plans.clear()
        self.reports.clear()

    def reference_number(self) -> str:
        """Two letters (no I or O), four digits, then the contract type's first two letters."""
        letters = [c for c in string.ascii_uppercase if c not in "IO"]
        taken = {r.reference_number for r in self.referrals.values()}
        while True:
            head = "".join(self.rng.choice(letters) for _ in range(2))
            candidate = f"{head}{self.rng.randrange(10_000):04d}{CONTRACT_TYPE_NAME[:2].upper()}"
            if candidate not in taken:
                return candidate

    def crn(self) -> str:
        return f"{self.rng.choice(string.ascii_uppercase)}{self.rng.randrange(1_000_000):06d}"

    def person_name(self) -> tuple[str, str]:
        return self.rng.choice(_FIRST), self.rng.choice(_LAST)

    def delius_appointment_id(self) -> int:
        self._delius_ids += 1
        return self._delius_ids

    def referral_for(self, referral_id: uuid.UUID) -> Referral | None:
        return self.referrals.get(referral_id)


def delivery_state(referral: Referral, store: RmStore) -> str:
    """How R&M's concluder classifies an ending: nothing delivered, some sessions, or all of them."""
    approved = [
        p for i in referral.action_plan_ids if (p := store.action_plans[i]).approved_at is not None
    ]
    current = [appointments[-1] for appointments in referral.sessions.values() if appointments]
    attended = [a for a in current if a.feedback and a.feedback.attended in ("yes", "late")]
    if not approved or not attended:
        return "CANCELLED"
    if len([a for a in current if a.feedback]) < approved[-1].number_of_sessions:
        return "PREMATURELY_ENDED"
    return "COMPLETED"
