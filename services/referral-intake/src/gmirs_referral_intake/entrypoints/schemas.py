"""Direct-referral request and response shapes, validated field by field."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from gmirs_contracts.common import (
    Crn,
    DateOfBirth,
    Day,
    Email,
    FreeText,
    Line,
    Moment,
    ProbationDeliveryUnit,
    ReferenceNumber,
)

Text = Annotated[FreeText, Field(max_length=4000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonIn(_Strict):
    crn: Crn
    given_name: Annotated[Line, Field(min_length=1, max_length=200)]
    family_name: Annotated[Line, Field(min_length=1, max_length=200)]
    date_of_birth: DateOfBirth | None = None
    gender: Annotated[Line, Field(max_length=100)] | None = None
    ethnicity: Annotated[Line, Field(max_length=200)] | None = None
    preferred_language: Annotated[Line, Field(max_length=100)] | None = None
    disabilities: Annotated[list[Annotated[Line, Field(max_length=200)]], Field(max_length=20)] = []


class ServiceCategoryIn(_Strict):
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    complexity: Literal["low", "medium", "high"]
    desired_outcomes: Annotated[
        list[Annotated[FreeText, Field(max_length=1000)]], Field(max_length=20)
    ] = []


class NeedsIn(_Strict):
    additional_needs: Text | None = None
    accessibility_needs: Text | None = None
    needs_interpreter: StrictBool = False
    interpreter_language: Annotated[Line, Field(max_length=100)] | None = None
    has_additional_responsibilities: StrictBool | None = None
    when_unavailable: Text | None = None


class RiskIn(_Strict):
    summary: Text | None = None
    supplementary_risk_id: uuid.UUID | None = None


class PractitionerIn(_Strict):
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    email: Email
    phone: Annotated[Line, Field(max_length=50)] | None = None
    probation_delivery_unit: Annotated[Line, Field(max_length=100)] | None = None


class DirectReferralCreate(_Strict):
    """A referral entered directly by the lead provider (outside R&M)."""

    probation_delivery_unit: ProbationDeliveryUnit
    reference_number: ReferenceNumber | None = None
    contract_reference: Annotated[Line, Field(max_length=100)] | None = None
    person: PersonIn
    service_categories: Annotated[list[ServiceCategoryIn], Field(min_length=1, max_length=12)]
    # Factories, not instances: pydantic deep-copies a model default on every request that omits it.
    needs: NeedsIn = Field(default_factory=NeedsIn)
    risk: RiskIn = Field(default_factory=RiskIn)
    referring_practitioner: PractitionerIn
    sent_at: Moment | None = None
    completion_deadline: Day | None = None
    reason_for_referral: Text | None = None


class ReferralAccepted(BaseModel):
    referral_id: uuid.UUID
    source: str
    status: Literal["routed", "held"] = Field(
        description="routed: sent to its hub; held: no hub matched, waiting for the lead provider"
    )
    hub_id: str | None
    received_at: AwareDatetime
