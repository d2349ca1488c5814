"""Request and response shapes of the evidence request routes (no personal data either way)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gmirs_contracts.common import FreeText, HubId, Moment

Asked = Annotated[FreeText, Field(min_length=1, max_length=4000)]
AnswerText = Annotated[FreeText, Field(min_length=1, max_length=8000)]


class EvidenceRequestCreate(BaseModel):
    """What the commissioner asks. Name a case by its case id, never by the person's details."""

    model_config = ConfigDict(extra="forbid")

    asked: Asked = Field(
        description="What evidence or information is asked for (no personal data)."
    )
    hub_id: HubId | None = Field(
        default=None, description="The hub asked; left out, the lead provider (or the case's hub)."
    )
    case_id: uuid.UUID | None = Field(
        default=None, description="The case the request is about; it goes to that case's hub."
    )
    requested_at: Moment | None = Field(
        default=None,
        description="When it was first asked, if before now (the original request); never future.",
    )


class EvidenceAnswerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: AnswerText = Field(
        description="The evidence sent, or where it was sent (no personal data)."
    )


class AnswerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str
    answered_at: AwareDatetime
    answered_by: str
    on_time: bool = Field(description="Answered before `due_at` (KP4).")


class EvidenceRequestRead(BaseModel):
    id: uuid.UUID
    asked: str
    hub_id: str | None
    case_id: uuid.UUID | None
    requested_by: str
    requested_at: AwareDatetime
    recorded_at: AwareDatetime
    counted_from: date = Field(
        description="The working day (Europe/London) the promise counts from."
    )
    due_at: AwareDatetime = Field(description="From this moment an answer is late.")
    state: Literal["open", "answered"]
    overdue: bool = Field(description="Open and past `due_at` now.")
    answer: AnswerRead | None


class EvidenceRequestPage(BaseModel):
    items: list[EvidenceRequestRead]
    total: int
    limit: int
    offset: int
