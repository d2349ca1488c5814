"""What notify remembers from case events to address and gate its webhooks.

Each case's probation delivery unit (from case-opened, for the PDU filter), each appointment's
session number (from appointment-booked, for the alert) and the person's consents to share with
named partners (consent-given / -withdrawn, for the consent-gated event types). Events of one
case arrive in order (the topic is keyed by case id), so these are known when they are needed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import appointment_sessions, case_facts, consents, skipped_events

PROGRESS_SCOPES = ("progress", "all")


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """From case-opened: the unit for the PDU filter, the keys a practitioner's system knows."""

    case_id: uuid.UUID
    probation_delivery_unit: str
    crn: str
    reference_number: str | None


class CaseFactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def remember_case(self, case: CaseFacts) -> None:
        values = {
            "probation_delivery_unit": case.probation_delivery_unit,
            "crn": case.crn,
            "reference_number": case.reference_number,
        }
        statement = insert(case_facts).values(case_id=case.case_id, **values)
        await self._session.execute(
            statement.on_conflict_do_update(index_elements=["case_id"], set_=values)
        )

    async def case(self, case_id: uuid.UUID) -> CaseFacts | None:
        query = select(case_facts).where(case_facts.c.case_id == case_id)
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else CaseFacts(**row)

    async def unit_of(self, case_id: uuid.UUID) -> str | None:
        found = await self.case(case_id)
        return None if found is None else found.probation_delivery_unit

    async def remember_session(self, appointment_id: uuid.UUID, number: int | None) -> None:
        statement = insert(appointment_sessions).values(
            appointment_id=appointment_id, session_number=number
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["appointment_id"], set_={"session_number": number}
            )
        )

    async def consent_given(
        self,
        consent_id: uuid.UUID,
        *,
        case_id: uuid.UUID,
        partner: str,
        scopes: list[str],
        given_at: datetime,
    ) -> None:
        values = {
            "consent_id": consent_id,
            "case_id": case_id,
            "partner": partner,
            "scopes": scopes,
            "given_at": given_at,
        }
        await self._session.execute(insert(consents).values(**values).on_conflict_do_nothing())

    async def consent_withdrawn(self, consent_id: uuid.UUID, withdrawn_at: datetime) -> None:
        await self._session.execute(
            update(consents)
            .where(consents.c.consent_id == consent_id, consents.c.withdrawn_at.is_(None))
            .values(withdrawn_at=withdrawn_at)
        )

    async def shares_progress(self, case_id: uuid.UUID, partner: str) -> bool:
        """Whether a consent of this case, not withdrawn, lets progress go to `partner`
        (names compared without regard to case or surrounding spaces)."""
        query = select(
            exists().where(
                consents.c.case_id == case_id,
                func.lower(func.btrim(consents.c.partner)) == partner.strip().lower(),
                or_(*(consents.c.scopes.any_() == scope for scope in PROGRESS_SCOPES)),
                consents.c.withdrawn_at.is_(None),
            )
        )
        return bool((await self._session.execute(query)).scalar_one())

    async def record_skip(
        self,
        *,
        subscription_id: uuid.UUID,
        event_id: uuid.UUID,
        event_type: str,
        case_id: uuid.UUID,
        reason: str,
        at: datetime,
    ) -> None:
        """Keep why an endpoint that asked for an event did not get it (e.g. no consent)."""
        values = {
            "subscription_id": subscription_id,
            "event_id": event_id,
            "event_type": event_type,
            "case_id": case_id,
            "reason": reason,
            "at": at,
        }
        await self._session.execute(
            insert(skipped_events).values(**values).on_conflict_do_nothing()
        )
