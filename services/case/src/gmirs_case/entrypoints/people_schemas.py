"""Request and response shapes of the person, caseworker, note and task routes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from gmirs_contracts.case_people import WorkerUsername
from gmirs_contracts.common import Day, Email, FreeText, Line, ProbationDeliveryUnit
from gmirs_contracts.intake import (
    Location,
    Needs,
    Person,
    ReferringPractitioner,
    ServiceCategory,
)

Phone = Annotated[Line, Field(min_length=3, max_length=40)]
AddressLine = Annotated[Line, Field(min_length=1, max_length=200)]
Postcode = Annotated[Line, Field(min_length=2, max_length=10)]
TaskKindName = Literal["next-contact", "review", "exit-survey", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactDetails(_Strict):
    """How the hub reaches the person (the referral carries none: the hub records them)."""

    phone: Phone | None = None
    email: Email | None = None
    address_lines: Annotated[list[AddressLine], Field(max_length=4)] | None = None
    postcode: Postcode | None = None


class ContactPatch(ContactDetails):
    """The fields to change; a field sent as null is cleared, a field left out is kept."""

    @model_validator(mode="after")
    def _something_changes(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class PersonRead(_Strict):
    """The person as the referral described them, with the hub's contact details."""

    case_id: uuid.UUID
    crn: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    person: Person
    needs: Needs
    service_categories: list[ServiceCategory]
    referring_practitioner: ReferringPractitioner
    probation_delivery_unit: ProbationDeliveryUnit | None
    completion_deadline: date | None
    location: Location | None = Field(description="Custody, release date, probation office.")
    contact: ContactDetails
    contact_version: int = Field(description="Send it back in If-Match to change the contact.")
    contact_updated_at: datetime | None
    contact_updated_by: str | None


class WorkerPut(_Strict):
    worker: WorkerUsername


class WorkerRead(_Strict):
    case_id: uuid.UUID
    worker: str
    source: Literal["hub", "refer-and-monitor"]
    assigned_at: datetime


class NoteCreate(_Strict):
    text: Annotated[FreeText, Field(min_length=1, max_length=10_000)]
    sensitive: StrictBool = False
    worker: WorkerUsername | None = Field(default=None, description="The worker writing it.")


class NoteRead(_Strict):
    id: uuid.UUID
    written_at: datetime
    author_client: str
    author_worker: str | None
    sensitive: bool
    withheld: bool = Field(description="True: a sensitive note this caller may not read.")
    text: str | None


class NotePage(_Strict):
    items: list[NoteRead]
    total: int
    limit: int
    offset: int


class TaskCreate(_Strict):
    kind: TaskKindName
    due_on: Day
    worker: WorkerUsername | None = None


class TaskRead(_Strict):
    id: uuid.UUID
    case_id: uuid.UUID
    hub_id: str
    kind: TaskKindName
    due_on: date
    worker: str | None
    created_at: datetime
    created_by: str
    done_at: datetime | None
    state: Literal["open", "done"]
    overdue: bool


class TaskPage(_Strict):
    items: list[TaskRead]
    total: int
    limit: int
    offset: int
