"""The API's request and response shapes, separate from tables and domain objects."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from gmirs_contracts.common import HubId, Line, ProbationDeliveryUnit
from gmirs_notify.adapters.views import AttemptView, DeliveryView
from gmirs_notify.domain.delivery import AttemptOutcome, webhook_id, within_deadline
from gmirs_notify.domain.subscription import CONSENT_GATED, Subscription

EventTypeName = Literal["non-attendance.recorded", "action-plan.agreed", "case.closed"]
UnitFilter = Annotated[
    list[ProbationDeliveryUnit],
    Field(max_length=50, description="Only cases of these probation delivery units; empty: all."),
]
PartnerName = Annotated[Line, Field(min_length=1, max_length=200)]
HubFilter = Annotated[
    list[HubId],
    Field(max_length=50, description="Only these hubs' events; empty: every hub."),
]
DeliveryStatusName = Literal["pending", "acknowledged", "failed"]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[Line, Field(min_length=1, max_length=2048, description="https URL to POST to")]
    description: Annotated[Line, Field(max_length=500)] | None = None
    event_types: Annotated[list[EventTypeName], Field(min_length=1, max_length=10)] = [
        "non-attendance.recorded"
    ]
    hub_ids: HubFilter = []
    pdu_codes: UnitFilter = []
    partner: PartnerName | None = Field(
        default=None,
        description="The organisation as named in people's consent to share (e.g. 'National "
        "Probation Service - Greater Manchester'). action-plan.agreed and case.closed reach the "
        "endpoint only for people whose consent to this partner covers progress.",
    )

    @model_validator(mode="after")
    def _consent_gated_types_need_a_partner(self) -> SubscriptionCreate:
        if self.partner is None and CONSENT_GATED.intersection(self.event_types):
            raise ValueError("action-plan.agreed and case.closed need a partner (consent)")
        return self


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[EventTypeName]
    owner_client_id: str
    active: bool
    enabled: bool = Field(description="False: deliveries wait, unsent, until enabled again.")
    hub_ids: list[str]
    pdu_codes: list[str]
    partner: str | None
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
            enabled=s.enabled,
            hub_ids=list(s.hub_ids),
            pdu_codes=list(s.pdu_codes),
            partner=s.partner,
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
    event_type: str
    case_id: uuid.UUID
    appointment_id: uuid.UUID | None
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
    failure_reason: str | None = Field(
        description="Why it failed for good: endpoint-gone, retries-exhausted, removed, ..."
    )
    failed_at: AwareDatetime | None

    @classmethod
    def of(cls, d: DeliveryView) -> DeliveryRead:
        return cls(
            id=d.id,
            webhook_id=webhook_id(d.id),
            subscription_id=d.subscription_id,
            event_type=d.event_type,
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
            failure_reason=d.failure_reason,
            failed_at=d.failed_at,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: int
    limit: int
    offset: int


class AttemptRead(BaseModel):
    attempt: int
    at: AwareDatetime
    status_code: int | None
    latency_ms: int
    error_class: str | None = Field(description="Why no status code came back (e.g. ConnectError).")
    manual: bool = Field(description="The first attempt after a person asked for a redelivery.")

    @classmethod
    def of(cls, a: AttemptView) -> AttemptRead:
        return cls(
            attempt=a.attempt,
            at=a.at,
            status_code=a.status_code,
            latency_ms=a.duration_ms,
            error_class=a.error_class,
            manual=a.manual,
        )


class DeliveryLogItem(DeliveryRead):
    attempt_log: list[AttemptRead]


class DeliveryLogPage(BaseModel):
    items: list[DeliveryLogItem]
    total: int
    limit: int
    offset: int


class PingResult(BaseModel):
    webhook_id: str
    acknowledged: bool = Field(description="The receiver answered 2xx.")
    status_code: int | None
    latency_ms: int
    error_class: str | None

    @classmethod
    def of(cls, message_id: str, outcome: AttemptOutcome) -> PingResult:
        return cls(
            webhook_id=message_id,
            acknowledged=outcome.acknowledged,
            status_code=outcome.status_code,
            latency_ms=outcome.duration_ms,
            error_class=outcome.error_class,
        )
