"""A probation system's webhook endpoint: where to send, what to send, and the signing secrets.

Secrets follow Standard Webhooks (`whsec_` + base64 of 32 random bytes). Rotation keeps the old
secret signing beside the new one for a grace period (or until the subscriber retires it), so a
subscriber can switch its verifier without missing a report.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

NON_ATTENDANCE_RECORDED = "non-attendance.recorded"
ACTION_PLAN_AGREED = "action-plan.agreed"
CASE_CLOSED = "case.closed"
EVENT_TYPES = frozenset({NON_ATTENDANCE_RECORDED, ACTION_PLAN_AGREED, CASE_CLOSED})
CONSENT_GATED = frozenset({ACTION_PLAN_AGREED, CASE_CLOSED})
"""Event types that reach an endpoint only where the person consented to share with its partner.
The statutory non-attendance report is never gated."""
ROTATION_GRACE = timedelta(hours=24)
SECRET_PREFIX = "whsec_"


class SubscriptionInactiveError(Exception):
    """The subscription was deactivated; it can no longer be changed."""


def new_secret() -> str:
    """A fresh signing secret, shown to the subscriber once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signing_secrets(
    secret: str, previous: str | None, previous_expires_at: datetime | None, *, now: datetime
) -> tuple[str, ...]:
    """The secrets that sign a delivery now: the current one, plus the previous in its grace."""
    if previous and previous_expires_at and now < previous_expires_at:
        return (secret, previous)
    return (secret,)


@dataclass(slots=True)
class Subscription:
    id: uuid.UUID
    owner_client_id: str
    url: str
    description: str | None
    event_types: tuple[str, ...]
    secret: str
    created_at: datetime
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    active: bool = True
    deactivated_at: datetime | None = None
    deactivation_reason: str | None = None
    enabled: bool = True
    hub_ids: tuple[str, ...] = ()
    """Only these hubs' events (empty: every hub)."""
    pdu_codes: tuple[str, ...] = ()
    """Only cases of these probation delivery units (empty: every unit)."""
    partner: str | None = None
    """The organisation named in a person's consent (consent-gated event types need one)."""

    def wants(self, event_type: str, hub_id: str, pdu: str | None) -> bool:
        """Whether an event of `event_type` from `hub_id`, for a case of the probation delivery
        unit `pdu` (None: not known), passes this endpoint's filters."""
        return (
            event_type in self.event_types
            and (not self.hub_ids or hub_id in self.hub_ids)
            and (not self.pdu_codes or pdu in self.pdu_codes)
        )

    def set_enabled(self, enabled: bool) -> bool:
        """Switch delivery on or off; False if it was already so. Deliveries wait while off."""
        self._require_active()
        if self.enabled == enabled:
            return False
        self.enabled = enabled
        return True

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        return signing_secrets(
            self.secret, self.previous_secret, self.previous_secret_expires_at, now=now
        )

    def rotate_secret(self, now: datetime) -> str:
        """Start signing with a new secret; the current one keeps signing for ROTATION_GRACE."""
        self._require_active()
        self.previous_secret = self.secret
        self.previous_secret_expires_at = now + ROTATION_GRACE
        self.secret = new_secret()
        return self.secret

    def retire_previous_secret(self) -> None:
        """The subscriber verifies with the new secret now: stop signing with the old one."""
        self._require_active()
        self.previous_secret = None
        self.previous_secret_expires_at = None

    def deactivate(self, now: datetime, reason: str) -> bool:
        """Stop delivering to this endpoint; False if it was already inactive."""
        if not self.active:
            return False
        self.active = False
        self.deactivated_at = now
        self.deactivation_reason = reason
        return True

    def _require_active(self) -> None:
        if not self.active:
            raise SubscriptionInactiveError("the subscription is no longer active")
