"""Payloads on `intake.referral-events.v1`, produced by referral-intake."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import (
    Crn,
    Email,
    HubId,
    NonEmpty,
    ProbationDeliveryUnit,
    ReferenceNumber,
)

TOPIC = "intake.referral-events.v1"


class Person(ContractModel):
    """The person on probation. Personal data: payloads and tables only, never headers or keys."""

    crn: Crn
    given_name: NonEmpty
    family_name: NonEmpty
    date_of_birth: date | None
    gender: str | None
    ethnicity: str | None
    preferred_language: str | None
    disabilities: list[str]


class ServiceCategory(ContractModel):
    """One service category the person is referred for, with its complexity and outcomes."""

    name: NonEmpty
    complexity: Literal["low", "medium", "high"]
    desired_outcomes: list[str]


class Needs(ContractModel):
    """What the hub must arrange for the person to take part."""

    additional_needs: str | None
    accessibility_needs: str | None
    needs_interpreter: bool
    interpreter_language: str | None
    has_additional_responsibilities: bool | None
    when_unavailable: str | None


class Risk(ContractModel):
    """The risk summary shared with the provider and the R&M supplementary risk id."""

    summary: str | None
    supplementary_risk_id: UUID | None


class ReferringPractitioner(ContractModel):
    """The probation practitioner who made the referral, to be told of non-attendance."""

    name: NonEmpty
    email: Email
    phone: str | None
    probation_delivery_unit: str | None


class Location(ContractModel):
    """Where the person is and where they will report (R&M's location and release fields)."""

    current_location: Literal["custody", "community"] | None
    custody_prison_id: Annotated[str, Field(max_length=20)] | None
    expected_release_date: date | None
    probation_office: Annotated[str, Field(max_length=200)] | None = Field(
        description="The probation office the person reports to (or will, on release)."
    )


class ReferralReceived(ContractModel):
    """`gmirs.intake.referral-received.v1`: a usable referral was accepted (from any source).

    `hub_id` null means the referral is unrouted and held for the lead provider to allocate.
    `probation_delivery_unit` null means the source named a unit that is not one of the eleven
    (its text is in `probation_delivery_unit_text`); such a referral is always held, so a routed
    referral always has its unit.
    """

    referral_id: UUID
    source: Literal["direct", "refer-and-monitor", "pilot-import"]
    received_at: AwareDatetime
    hub_id: HubId | None
    probation_delivery_unit: ProbationDeliveryUnit | None
    reference_number: ReferenceNumber | None
    rm_referral_id: UUID | None
    contract_reference: str | None
    person: Person
    service_categories: Annotated[list[ServiceCategory], Field(min_length=1)]
    needs: Needs
    risk: Risk
    referring_practitioner: ReferringPractitioner
    sent_at: AwareDatetime
    completion_deadline: date | None
    reason_for_referral: str | None
    location: Location | None = Field(
        default=None,
        description="Custody, release date and probation office, when the source gives them.",
    )
    probation_delivery_unit_text: Annotated[
        str | None,
        Field(
            max_length=200,
            description="The unit as the source wrote it, when that differs from the normalised name.",
        ),
    ] = None

    @model_validator(mode="after")
    def _routed_only_with_a_known_unit(self) -> Self:
        if self.hub_id is not None and self.probation_delivery_unit is None:
            raise ValueError("a routed referral (hub_id set) needs its probation_delivery_unit")
        return self
