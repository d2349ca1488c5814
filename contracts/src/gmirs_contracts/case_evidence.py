"""Payloads on `case.case-events.v1` about the commissioner's evidence requests (KP4).

KP4: "100% of the required evidence is sent by the recipient to the contractor within 1 working
day of the original request". Metrics needs when each request was received, when it was due
(case works that out: England and Wales working days, Europe/London, a cut-off for the working
day), when it was answered and whether that was on time, by hub. No free text: what was asked
and answered stays in case, and a request names at most a hub and a case id, never a person.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import HubId


class _AboutRequest(ContractModel):
    request_id: UUID
    hub_id: HubId | None = Field(description="The hub asked; null when asked of the lead provider.")
    case_id: UUID | None = Field(description="The case the request is about, if any.")
    requested_at: AwareDatetime = Field(
        description="When the commissioner asked (the original request)."
    )
    counted_from: date = Field(
        description="The Europe/London working day the promise counts from (the day received, "
        "or the next working day when received after the cut-off, at a weekend or on a bank holiday)."
    )
    due_at: AwareDatetime = Field(description="From this moment an answer is late (KP4).")


class EvidenceRequested(_AboutRequest):
    """`gmirs.case.evidence-requested.v1`: a commissioner asked for information or evidence."""

    recorded_at: AwareDatetime = Field(description="When case recorded the request.")


class EvidenceRequestAnswered(_AboutRequest):
    """`gmirs.case.evidence-request-answered.v1`: the evidence was sent; on time or not (KP4)."""

    answered_at: AwareDatetime
    on_time: bool = Field(description="Answered before `due_at`.")
    answered_by_hub: bool = Field(
        description="True if the hub answered, false if the lead provider."
    )
