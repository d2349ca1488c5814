"""The case service's unit of work: the runtime's transaction, carrying the case repository.

Handlers and routes reach storage only through it (`uow.cases`), so none builds a repository
of its own; bootstrap hands this class to the runtime (cosmicpython's unit_of_work.py shape).
"""

from __future__ import annotations

from typing import Self

from gmirs_case.adapters.caseload import CaseloadRepository
from gmirs_case.adapters.casework import CaseworkRepository
from gmirs_case.adapters.consent import ConsentRepository
from gmirs_case.adapters.contacts import ContactRepository
from gmirs_case.adapters.exit_survey import ExitSurveyRepository
from gmirs_case.adapters.lifecycle import LifecycleRepository
from gmirs_case.adapters.mitigations import MitigationRepository
from gmirs_case.adapters.onward_referrals import OnwardReferralRepository
from gmirs_case.adapters.outcomes import OutcomeAssessmentRepository
from gmirs_case.adapters.people import PeopleRepository
from gmirs_case.adapters.repository import CaseRepository
from gmirs_runtime.db import UnitOfWork


class CaseUnitOfWork(UnitOfWork):
    cases: CaseRepository
    contacts: ContactRepository
    outcome_assessments: OutcomeAssessmentRepository
    consents: ConsentRepository
    onward_referrals: OnwardReferralRepository
    people: PeopleRepository
    casework: CaseworkRepository
    exit_surveys: ExitSurveyRepository
    lifecycles: LifecycleRepository
    caseload: CaseloadRepository
    mitigations: MitigationRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.cases = CaseRepository(self.session)
        self.contacts = ContactRepository(self.session)
        self.outcome_assessments = OutcomeAssessmentRepository(self.session)
        self.consents = ConsentRepository(self.session)
        self.onward_referrals = OnwardReferralRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.casework = CaseworkRepository(self.session)
        self.exit_surveys = ExitSurveyRepository(self.session)
        self.lifecycles = LifecycleRepository(self.session)
        self.caseload = CaseloadRepository(self.session)
        self.mitigations = MitigationRepository(self.session)
        return self
