"""Reconciliation: ask R&M for every sent referral and take any whose event never arrived.

R&M publishes fire-and-forget (no outbox, failures only logged), so an event can be lost before
it reaches our queue. On a schedule the poller walks R&M's paged sent-referral summaries and, for
each referral intake does not hold, goes through the same path as a `referral.sent` event
(`ensure_referral_from_rm`), so a referral that arrives by event and by poll is still one.
A page R&M fails to give ends the round early; a referral that fails for now (R&M 5xx, a
timeout) is counted and skipped, so one referral that keeps failing never blocks the others, and
the next round tries it again (it is still not held). Nothing is marked done until its referral
is committed, so nothing is lost. A referral R&M shows assigned gets its `referral-assigned` in
the same transaction that creates it, once: its R&M event arriving before or after changes
nothing more (see `ensure_referral_from_rm`). A referral R&M cannot give us in a usable
form is quarantined as the `referral.sent` event it stands for, so an operator's replay works.

Every replica runs the poller, but a round runs in one replica at a time (an advisory lock):
walking R&M's whole list from several replicas at once would be safe and wasteful.

A referral R&M has already concluded is left alone: it is no work for a hub, its own events
(ended, concluded) create it if any of them arrives, and without this rule the first round after
go-live would hand every referral in R&M's history to the hubs. Concluded referrals are filtered
here rather than by R&M's query filters so that pages do not shift under a walk as referrals end.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_referral_intake.adapters import quarantine
from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.handlers.rm_events import ensure_referral_from_rm
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
MAX_PAGES = 100_000  # a bound on one round's walk, far above any real caseload
SENT = "intervention.referral.sent"
Leadership = Callable[[], AbstractAsyncContextManager[bool]]
"""Enters True in the one replica that may run a round now (see gmirs_runtime.leadership)."""
_RETRYABLE = (TransientFailureError, TimeoutError, OSError, OperationalError, InterfaceError)
_HELD = text(
    "SELECT referral->>'rm_referral_id', referral->>'reference_number' FROM referrals"
    " WHERE referral->>'rm_referral_id' = ANY(:ids) OR referral->>'reference_number' = ANY(:refs)"
)


@dataclass
class RoundReport:
    """What one round did (kept as `Reconciler.last_round` for operators and tests)."""

    pages: int = 0
    seen: int = 0
    created: int = 0
    quarantined: int = 0
    concluded: int = 0  # not held, but concluded in R&M: no work for a hub, left alone
    failed: int = 0  # failed for now (R&M 5xx, timeout): tried again next round
    complete: bool = False


class Reconciler:
    """Creates the referrals R&M has sent but intake never heard of; `run` it as a worker."""

    def __init__(
        self,
        rm: RmApi,
        unit_of_work: Callable[[], UnitOfWork],
        routing: HubRouting,
        page_size: int = 50,
        *,
        interval_seconds: float = 300.0,
        leadership: Leadership | None = None,
    ) -> None:
        self._rm = rm
        self._leadership = leadership
        self._unit_of_work = unit_of_work
        self._routing = routing
        self._page_size = page_size
        self._interval = interval_seconds
        self._stop = asyncio.Event()
        self.last_round = RoundReport()

    async def run(self, stop: asyncio.Event) -> None:
        """A round now and then every interval until `stop`; failures wait for the next round."""
        self._stop = stop
        while not stop.is_set():
            try:
                await self._round_if_leading()
            except _RETRYABLE as exc:
                log.warning(
                    "reconciliation round incomplete, retried next round",
                    extra={"error_class": type(exc).__name__, "count": self.last_round.created},
                )
            await first_of(stop, timeout=self._interval)

    async def _round_if_leading(self) -> None:
        """A round here unless another replica is walking R&M right now (then that one will do)."""
        if self._leadership is None:
            await self.reconcile_once()
            return
        async with self._leadership() as leading:
            if leading:
                await self.reconcile_once()
            else:
                log.info("reconciliation round left to the replica running one")

    async def reconcile_once(self) -> int:
        """One walk over every summary page; how many referrals it created.

        Raises TransientFailureError (or a database connection error) when the walk could not
        finish; the referrals created before that are kept, and the next round goes on from there.
        """
        report = self.last_round = RoundReport()
        for page in range(1, MAX_PAGES + 1):
            if self._stop.is_set():
                return report.created
            body = await self._rm.summaries(page, self._page_size)
            summaries = _content(body)
            report.pages += 1
            report.seen += len(summaries)
            await self._reconcile_page(summaries, report)
            if _last_page(body, page, summaries):
                break
        report.complete = True
        log.info("reconciliation round done", extra={"count": report.created})
        return report.created

    async def _reconcile_page(
        self, summaries: Sequence[Mapping[str, Any]], report: RoundReport
    ) -> None:
        async with self._unit_of_work() as uow:
            held = await _held(uow.session, summaries)
        for summary in summaries:
            if held.holds(summary):
                continue
            if summary.get("concludedAt"):
                report.concluded += 1
                continue
            if self._stop.is_set():
                return
            await self._reconcile_one(summary, report)

    async def _reconcile_one(self, summary: Mapping[str, Any], report: RoundReport) -> None:
        """Take one referral; one that fails for now is left for the next round, not the rest."""
        rm_id = _uuid(summary.get("id"))
        try:
            if rm_id is None:
                raise UnusableMessageError("summary id: missing or not a UUID")
            _, created = await ensure_referral_from_rm(
                rm_id,
                unit_of_work=self._unit_of_work,
                rm=self._rm,
                routing=self._routing,
                assigned_to=_assignee(summary),
            )
        except UnusableMessageError as exc:
            await self._quarantine(summary, exc.reason)
            report.quarantined += 1
        except TransientFailureError as exc:
            report.failed += 1
            log.warning(
                "reconciliation left a referral for the next round",
                extra={"error_class": type(exc).__name__},
            )
        else:
            report.created += created

    async def _quarantine(self, summary: Mapping[str, Any], reason: str) -> None:
        """Hold the referral as its `referral.sent` event; held again, the same row is counted."""
        async with self._unit_of_work() as uow:
            raw = orjson.dumps(_as_sent_event(summary, self._rm.api_url)).decode()
            await quarantine.hold(uow.session, source="poller", raw=raw, reason=reason)
            await uow.commit()


def _content(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = body.get("content")
    if not isinstance(content, list) or not all(isinstance(item, dict) for item in content):
        raise TransientFailureError("R&M summaries page without a list of summaries")
    return content


def _last_page(body: Mapping[str, Any], page: int, summaries: Sequence[Any]) -> bool:
    """Spring's `last`, else its `totalPages`, else an empty page ends the walk."""
    if not summaries:
        return True
    last, total = body.get("last"), body.get("totalPages")
    if isinstance(last, bool):
        return last
    return isinstance(total, int) and page >= total


@dataclass(frozen=True)
class _Held:
    rm_ids: frozenset[uuid.UUID]
    references: frozenset[str]

    def holds(self, summary: Mapping[str, Any]) -> bool:
        return _uuid(summary.get("id")) in self.rm_ids or _reference(summary) in self.references


async def _held(session: AsyncSession, summaries: Sequence[Mapping[str, Any]]) -> _Held:
    """Which of these summaries intake holds already, by R&M id or by reference number."""
    ids = [str(rm_id) for s in summaries if (rm_id := _uuid(s.get("id"))) is not None]
    refs = [ref for s in summaries if (ref := _reference(s)) is not None]
    rows = (await session.execute(_HELD, {"ids": ids, "refs": refs})).all()
    rm_ids = {rm_id for raw, _ in rows if (rm_id := _uuid(raw)) is not None}
    return _Held(frozenset(rm_ids), frozenset(ref for _, ref in rows if ref))


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _assignee(summary: Mapping[str, Any]) -> str | None:
    """The caseworker's username when R&M shows the referral assigned."""
    assigned = summary.get("assignedTo")
    username = assigned.get("username") if isinstance(assigned, dict) else None
    return username if isinstance(username, str) and username else None


def _reference(summary: Mapping[str, Any]) -> str | None:
    value = summary.get("referenceNumber")
    return value if isinstance(value, str) and value else None


def _as_sent_event(summary: Mapping[str, Any], api_url: str) -> dict[str, Any]:
    """The bare `referral.sent` envelope R&M would have published for this summary."""
    rm_id = summary.get("id")
    user = summary.get("serviceUser")
    crn = user.get("crn") if isinstance(user, dict) else None
    return {
        "eventType": SENT,
        "version": 1,
        "description": "A referral has been sent to a Service Provider",
        "detailUrl": f"{api_url}/sent-referral/{rm_id}",
        "occurredAt": summary.get("sentAt"),
        "additionalInformation": {"referralId": rm_id},
        "personReference": {"identifiers": [{"type": "CRN", "value": crn}]},
    }
