"""Payloads on `case.case-events.v1` about who works on a case (no personal data of the person)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import HubId

WorkerUsername = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
]
"""A caseworker's login name (R&M's HMPPS Auth username, or the hub's own)."""


class WorkerAssigned(ContractModel):
    """`gmirs.case.worker-assigned.v1`: a caseworker of the case's hub now holds the case.

    `source` is `hub` (the hub or lead provider assigned through the API) or `refer-and-monitor`
    (R&M's `assignedTo`). The worker's username is in the payload only, never in headers.
    """

    case_id: UUID
    referral_id: UUID
    hub_id: HubId
    worker: WorkerUsername
    source: Literal["hub", "refer-and-monitor"]
    assigned_at: AwareDatetime
