"""The notify service's unit of work: the runtime's transaction, carrying notify's repositories.

Handlers, routes and the dispatcher reach storage only through it (`uow.subscriptions`,
`uow.deliveries`, `uow.reports`, `uow.case_facts`, `uow.watches`); bootstrap hands this class to the runtime
(cosmicpython's unit_of_work.py).
"""

from __future__ import annotations

from typing import ClassVar, Self, cast

from gmirs_notify.adapters.attendance_watches import AttendanceWatchRepository
from gmirs_notify.adapters.case_facts import CaseFactsRepository
from gmirs_notify.adapters.deliveries import DeliveryRepository
from gmirs_notify.adapters.metrics import GLOBAL, NotifyMetrics
from gmirs_notify.adapters.practitioner_emails import PractitionerEmailRepository
from gmirs_notify.adapters.reports import ReportRepository
from gmirs_notify.adapters.rm_writebacks import RmWriteBackRepository
from gmirs_notify.adapters.subscriptions import SubscriptionRepository
from gmirs_runtime.db import UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    reports: ReportRepository
    emails: PractitionerEmailRepository
    rm_writebacks: RmWriteBackRepository
    case_facts: CaseFactsRepository
    watches: AttendanceWatchRepository
    metrics: ClassVar[NotifyMetrics] = GLOBAL
    """Counts escalations, breaches and watchdog warnings from the events each commit wrote."""

    @classmethod
    def measured_by(cls, metrics: NotifyMetrics) -> type[NotifyUnitOfWork]:
        """This unit of work counting on `metrics` (a test's own meter provider and reader)."""
        return cast(type[NotifyUnitOfWork], type(cls.__name__, (cls,), {"metrics": metrics}))

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.subscriptions = SubscriptionRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.reports = ReportRepository(self.session)
        self.emails = PractitionerEmailRepository(self.session)
        self.rm_writebacks = RmWriteBackRepository(self.session)
        self.case_facts = CaseFactsRepository(self.session)
        self.watches = AttendanceWatchRepository(self.session)
        return self

    async def commit(self) -> None:
        emitted = self.emitted
        await super().commit()
        self.metrics.committed(emitted)
