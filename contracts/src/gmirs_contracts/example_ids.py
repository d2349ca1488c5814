"""The fictional ids and times every example shares, so examples of one case tell one story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

REFERRAL_ID = UUID("6d1f3a52-0b7e-4c56-9a1e-3f3b2f1d9c01")
RM_REFERRAL_ID = UUID("0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f")
CASE_ID = UUID("8a2c4e61-93b5-4d7f-a1c3-5e7f9b1d3a52")
APPOINTMENT_ID = UUID("c3e5a7b9-1d2f-4a6c-8e0b-2d4f6a8c0e13")
STARTS_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ENDS_AT = STARTS_AT + timedelta(hours=1)
DUE_BY = ENDS_AT + timedelta(hours=24)
ACTION_PLAN_ID = UUID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
RM_APPOINTMENT_ID = UUID("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")
SENT_AT = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
