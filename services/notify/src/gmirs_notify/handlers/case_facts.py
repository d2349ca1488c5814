"""Keep the few case facts notify needs: a case's delivery unit, a session's number, consents."""

from __future__ import annotations

from gmirs_contracts.case import AppointmentBooked, CaseOpened
from gmirs_contracts.case_needs import ConsentGiven, ConsentWithdrawn
from gmirs_notify.adapters.case_facts import CaseFacts
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_runtime.eventing.envelope import Event


async def remember_case(opened: CaseOpened, event: Event, uow: NotifyUnitOfWork) -> None:
    facts = CaseFacts(
        case_id=opened.case_id,
        probation_delivery_unit=opened.probation_delivery_unit,
        crn=opened.crn,
        reference_number=opened.reference_number,
    )
    await uow.case_facts.remember_case(facts)


async def remember_session(booked: AppointmentBooked, event: Event, uow: NotifyUnitOfWork) -> None:
    await uow.case_facts.remember_session(booked.appointment_id, booked.session_number)


async def remember_consent(given: ConsentGiven, event: Event, uow: NotifyUnitOfWork) -> None:
    await uow.case_facts.consent_given(
        given.consent_id,
        case_id=given.case_id,
        partner=given.partner,
        scopes=list(given.scopes),
        given_at=given.given_at,
    )


async def forget_consent(withdrawn: ConsentWithdrawn, event: Event, uow: NotifyUnitOfWork) -> None:
    await uow.case_facts.consent_withdrawn(withdrawn.consent_id, withdrawn.withdrawn_at)
