"""The API's request and response shapes, separate from tables and domain objects."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gmirs_contracts.common import Line
from gmirs_notify.adapters.views import DeliveryView
from gmirs_notify.domain.delivery import webhook_id, within_deadline
from gmirs_notify.domain.subscription import Subscription

EventTypeName = Literal["non-attendance.recorded"]
DeliveryStatusName = Literal["pending", "acknowledged", "failed"]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[Line, Field(min_length=1, max_length=2048, description="https URL to POST to")]
    description: Annotated[Line, Field(max_length=500)] | None = None
    event_types: Annotated[list[EventTypeName], Field(min_length=1, max_length=10)] = [
        "non-attendance.recorded"
    ]


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[EventTypeName]
    owner_client_id: str
    active: bool
    created_at: AwareDatetime
    deactivated_at: AwareDatetime | None
    previous_secret_expires_at: AwareDatetime | None = Field(
        description="While set, deliveries are signed with the previous secret too."
    )

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionRead:
        return cls(
            id=s.id,
            url=s.url,
            description=s.description,
            event_types=list(s.event_types),
            owner_client_id=s.owner_client_id,
            active=s.active,
            created_at=s.created_at,
            deactivated_at=s.deactivated_at,
            previous_secret_expires_at=s.previous_secret_expires_at,
        )


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="The signing secret (whsec_...). Shown only once.")


class SecretRotated(BaseModel):
    id: uuid.UUID
    secret: str = Field(description="The new signing secret (whsec_...). Shown only once.")
    previous_secret_expires_at: AwareDatetime | None


class SubscriptionPage(BaseModel):
    items: list[SubscriptionRead]
    total: int
    limit: int
    offset: int


class DeliveryRead(BaseModel):
    id: uuid.UUID
    webhook_id: str
    subscription_id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID
    status: DeliveryStatusName
    attempts: int
    created_at: AwareDatetime
    due_at: AwareDatetime
    next_attempt_at: AwareDatetime | None
    last_attempt_at: AwareDatetime | None
    last_status: int | None
    last_error_class: str | None
    acknowledged_at: AwareDatetime | None
    within_deadline: bool | None
    escalated_at: AwareDatetime | None

    @classmethod
    def of(cls, d: DeliveryView) -> DeliveryRead:
        return cls(
            id=d.id,
            webhook_id=webhook_id(d.id),
            subscription_id=d.subscription_id,
            case_id=d.case_id,
            appointment_id=d.appointment_id,
            status=d.status,
            attempts=d.attempts,
            created_at=d.created_at,
            due_at=d.due_at,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            last_attempt_at=d.last_attempt_at,
            last_status=d.last_status,
            last_error_class=d.last_error_class,
            acknowledged_at=d.acknowledged_at,
            within_deadline=within_deadline(d.acknowledged_at, d.due_at),
            escalated_at=d.escalated_at,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: int
    limit: int
    offset: int
