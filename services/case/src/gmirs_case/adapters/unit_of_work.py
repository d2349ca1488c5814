"""The case service's unit of work: the runtime's transaction, carrying the case repository.

Handlers and routes reach storage only through it (`uow.cases`), so none builds a repository
of its own; bootstrap hands this class to the runtime (cosmicpython's unit_of_work.py shape).
"""

from __future__ import annotations

import uuid
from typing import Self

from gmirs_case.adapters.action_plans import ActionPlanRepository
from gmirs_case.adapters.caseload import CaseloadRepository
from gmirs_case.adapters.casework import CaseworkRepository
from gmirs_case.adapters.consent import ConsentRepository
from gmirs_case.adapters.contacts import ContactRepository
from gmirs_case.adapters.evidence_requests import EvidenceRequestRepository
from gmirs_case.adapters.exit_survey import ExitSurveyRepository
from gmirs_case.adapters.group_sessions import GroupSessionRepository
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
    action_plans: ActionPlanRepository
    mitigations: MitigationRepository
    evidence_requests: EvidenceRequestRepository
    group_sessions: GroupSessionRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        written: dict[uuid.UUID, int] = {}  # the versions this transaction moved cases to
        self.lifecycles = LifecycleRepository(self.session, written)
        self.cases = CaseRepository(self.session, self.lifecycles, written)
        self.contacts = ContactRepository(self.session)
        self.outcome_assessments = OutcomeAssessmentRepository(self.session)
        self.consents = ConsentRepository(self.session)
        self.onward_referrals = OnwardReferralRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.casework = CaseworkRepository(self.session)
        self.exit_surveys = ExitSurveyRepository(self.session)
        self.caseload = CaseloadRepository(self.session)
        self.action_plans = ActionPlanRepository(self.session)
        self.mitigations = MitigationRepository(self.session)
        self.evidence_requests = EvidenceRequestRepository(self.session)
        self.group_sessions = GroupSessionRepository(self.session)
        return self

    async def commit(self) -> None:
        """Commit, and forget what was read under this transaction's locks (now released)."""
        try:
            await super().commit()
        finally:
            self._forget_locked_reads()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._forget_locked_reads()

    def _forget_locked_reads(self) -> None:
        self.cases.forget()
        self.lifecycles.forget()
