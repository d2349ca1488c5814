"""Facts for metricsdash's tests (Appendix A, provider activity, the dashboard), written straight
into the read-model tables of migration 0003 on one metrics service a test module shares.

The projections that turn events into these rows are tested on their own; here a test writes
exactly the facts its hand-worked figures need. Each helper fills only what the indicators read
and returns the row's id.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import text

from gmirs_metrics.bootstrap import MIGRATIONS, build
from gmirs_metrics.domain.figures import FiguresSource
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.services import RunningService, own_database, running_service


@dataclass
class Clock:
    """The service's clock, moved by the test."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 6, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


async def dash_service(
    postgres: EmbeddedPostgres,
    kafka: Any,
    issuer: TestIssuer,
    clock: Callable[[], datetime],
    figures: FiguresSource | None = None,
) -> AsyncIterator[RunningService]:
    """A metrics service on a database of its own, with the test's clock (and figures)."""
    async with (
        own_database(postgres, prefix="dash") as url,
        running_service(
            settings_class=MetricsSettings,
            build=partial(build, clock=clock, figures=figures),
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka.bootstrap,
            issuer=issuer,
            rate_limit_per_second=1000,
            rate_limit_burst=1000,
        ) as service,
    ):
        yield service


class Facts:
    """Inserts fact rows through the service's own sessions (its schema on the search path)."""

    def __init__(self, service: RunningService) -> None:
        self._service = service

    async def _insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        async with self._service.infra.unit_of_work() as uow:
            await uow.session.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row
            )
            await uow.commit()

    async def referral(
        self, sent_at: datetime, hub: str | None = "bolton", **row: Any
    ) -> uuid.UUID:
        referral_id = uuid.uuid4()
        defaults = {
            "referral_id": referral_id,
            "source": "refer-and-monitor",
            "hub_id": hub,
            "sent_at": sent_at,
            "received_at": sent_at,
            "from_rm": True,
            "service_categories": ["accommodation"],
        }
        await self._insert("referral_facts", {**defaults, **row})
        return referral_id

    async def case(self, hub: str = "bolton", **milestones: Any) -> uuid.UUID:
        case_id = uuid.uuid4()
        row = {"case_id": case_id, "referral_id": uuid.uuid4(), "hub_id": hub, **milestones}
        await self._insert("case_facts", row)
        return case_id

    async def contact(
        self,
        case_id: uuid.UUID,
        at: datetime,
        method: str,
        *,
        successful: bool,
        hub: str = "bolton",
    ) -> None:
        row = {
            "contact_id": uuid.uuid4(),
            "case_id": case_id,
            "hub_id": hub,
            "method": method,
            "outcome": "successful" if successful else "no-answer",
            "successful": successful,
            "occurred_at": at,
            "recorded_at": at,
        }
        await self._insert("contact_facts", row)

    async def appointment(
        self, case_id: uuid.UUID, starts_at: datetime, *, kind: str = "session", attended: str = "yes",
        hub: str = "bolton",
    ) -> None:  # fmt: skip
        row = {
            "appointment_id": uuid.uuid4(),
            "case_id": case_id,
            "hub_id": hub,
            "kind": kind,
            "starts_at": starts_at,
            "attended": attended,
        }
        await self._insert("appointment_facts", row)

    async def onward(
        self, case_id: uuid.UUID, at: datetime, agency: str, need: str, hub: str = "bolton"
    ) -> None:
        row = {
            "onward_referral_id": uuid.uuid4(),
            "case_id": case_id,
            "hub_id": hub,
            "agency": agency,
            "need": need,
            "outcome": "pending",
            "referred_at": at,
            "recorded_at": at,
        }
        await self._insert("onward_referral_facts", row)
