"""A hub records the person's consent to share with a named partner, and its withdrawal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gmirs_case.adapters import records
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.consent import Consent, ShareScope, give_consent, withdraw
from gmirs_case.domain.model import Case
from gmirs_case.handlers.contacts import AGGREGATE, of_case
from gmirs_case.handlers.locking import locked_case
from gmirs_contracts import case_needs as contract
from gmirs_contracts.registry import EVENTS

CONSENT_GIVEN = EVENTS["gmirs.case.consent-given.v1"]
CONSENT_WITHDRAWN = EVENTS["gmirs.case.consent-withdrawn.v1"]


class ConsentNotFoundError(LookupError):
    """The case has no consent with that id."""


@dataclass(frozen=True, slots=True)
class GiveConsent:
    case_id: uuid.UUID
    partner: str
    scopes: Sequence[ShareScope]
    given_at: datetime
    recorded_by: str


async def record_consent(
    command: GiveConsent, *, uow: CaseUnitOfWork, hub_id: str | None, now: datetime
) -> Consent:
    case = await locked_case(uow, command.case_id, hub_id)
    consent = give_consent(
        partner=command.partner,
        scopes=command.scopes,
        given_at=command.given_at,
        recorded_by=command.recorded_by,
        now=now,
    )
    await uow.consents.add(case.id, consent)
    event = records.contract(contract.ConsentGiven, _values(case, consent))
    uow.publish(CONSENT_GIVEN, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    return consent


async def record_withdrawal(
    case_id: uuid.UUID,
    consent_id: uuid.UUID,
    *,
    withdrawn_at: datetime,
    uow: CaseUnitOfWork,
    hub_id: str | None,
    now: datetime,
) -> Consent:
    case = await locked_case(uow, case_id, hub_id)
    given = next((c for c in await uow.consents.list(case.id) if c.id == consent_id), None)
    if given is None:
        raise ConsentNotFoundError(str(consent_id))
    withdrawn = withdraw(given, withdrawn_at=withdrawn_at, now=now)
    await uow.consents.save_withdrawal(withdrawn)
    values = _values(case, withdrawn) | {"recorded_at": withdrawn.withdrawal_recorded_at}
    event = records.contract(contract.ConsentWithdrawn, values)
    uow.publish(CONSENT_WITHDRAWN, event, aggregate_type=AGGREGATE, aggregate_id=case.id)
    return withdrawn


def _values(case: Case, consent: Consent) -> dict[str, object]:
    values = records.record_of(consent, rename={"id": "consent_id"})
    return of_case(case) | values | {"scopes": [s.value for s in consent.scopes]}
