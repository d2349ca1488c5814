"""Cases with an appointment in the past, ready for a non-attendance each; opened outside the
timed part of the non-attendance benchmark, through the platform's own front doors.

Direct referrals go in over intake's HTTP API; R&M referrals are made in the R&M simulator (its
SNS notifications reach intake through SQS, as in the end-to-end tests), and each gets a session
appointment scheduled in R&M an hour ago, which the hub's booking in case is linked to (the hub
entered it in R&M too), so notify can write the non-attendance back to that appointment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from gmirs_runtime.testing.kafka import wait_for_records
from gmirs_stack.stack import LocalStack
from tests.e2e.platform import data_of, event_type
from tests.e2e.referrals import direct_referral

CASES = "case.case-events.v1"
INTAKE = "intake.referral-events.v1"
CONCURRENCY = 16
T = TypeVar("T")


@dataclass(frozen=True)
class Booked:
    """One case's appointment, ready for its non-attendance; R&M's ids where it came from R&M."""

    hub_id: str
    case_id: str
    appointment_id: str
    rm_referral_id: str | None = None
    rm_appointment_id: str | None = None


async def bounded(items: Iterable[T], call: Callable[[T], Awaitable[Any]]) -> list[Any]:
    """`call` on each item, at most CONCURRENCY at once, answers in the items' order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: T) -> Any:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


class Clients:
    """Long-lived HTTP clients to the stack's services, each request with its client's token."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so that none is
        # reused just as the server closes it (an httpx.ReadError, not the platform's fault).
        limits = httpx.Limits(max_connections=200, keepalive_expiry=2)
        self._http = httpx.AsyncClient(timeout=30, limits=limits)
        self._tokens: dict[str, str] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self, client_id: str, method: str, service: str, path: str, body: Any = None
    ) -> httpx.Response:
        if client_id not in self._tokens:
            self._tokens[client_id] = await self.stack.token(client_id)
        headers = {"Authorization": f"Bearer {self._tokens[client_id]}"}
        url = f"{self.stack.url(service)}{path}"
        return await self._http.request(method, url, json=body, headers=headers)

    async def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A scenario step in the R&M simulator (a GET without a body); its answer."""
        url = f"{self.stack.url('rm')}{path}"
        if body is None:
            response = await self._http.get(url)
        else:
            response = await self._http.post(url, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def _ok(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    answer: dict[str, Any] = response.json()
    return answer


async def open_direct(clients: Clients, count: int) -> dict[str, str | None]:
    """`count` direct referrals posted to intake: referral id -> None (no R&M id)."""

    async def post(_: int) -> str:
        response = await clients.call(
            "lead-provider", "POST", "intake", "/referrals", direct_referral()
        )
        return str(_ok(response, 201)["referral_id"])

    return dict.fromkeys(await bounded(range(count), post))


async def open_rm(clients: Clients, count: int) -> dict[str, str | None]:
    """`count` referrals sent in R&M, each with session 1 scheduled there an hour ago: referral
    id (ours, once intake has received it) -> R&M's appointment id; R&M ids kept per referral."""

    async def create(_: int) -> tuple[str, str]:
        made = await clients.control("/_control/referrals", {"channels": ["sns"]})
        rm_id = str(made["referral_id"])
        scheduled = await clients.control(f"/_control/referrals/{rm_id}/sessions/1/schedule", {})
        return rm_id, str(scheduled["appointment_id"])

    rm_appointments = dict(await bounded(range(count), create))
    received = await wait_for_records(
        clients.stack.broker.bootstrap,
        INTAKE,
        lambda r: (
            event_type(r) == "gmirs.intake.referral-received.v1"
            and data_of(r).get("rm_referral_id") in rm_appointments
        ),
        count=count,
        timeout=120 + count / 10,
    )
    return {
        str(data_of(r)["referral_id"]): f"{data_of(r)['rm_referral_id']}/"
        f"{rm_appointments[str(data_of(r)['rm_referral_id'])]}"
        for r in received
    }


async def opened_cases(stack: LocalStack, referral_ids: set[str]) -> dict[str, tuple[str, str]]:
    """Referral id -> (hub id, case id), once case has opened a case for every one."""
    opened = await wait_for_records(
        stack.broker.bootstrap,
        CASES,
        lambda r: (
            event_type(r) == "gmirs.case.case-opened.v1"
            and data_of(r)["referral_id"] in referral_ids
        ),
        count=len(referral_ids),
        timeout=120 + len(referral_ids) / 20,
    )
    return {
        str(data_of(r)["referral_id"]): (str(data_of(r)["hub_id"]), str(data_of(r)["case_id"]))
        for r in opened
    }


async def book_in_past(clients: Clients, hub_id: str, case_id: str, rm: str | None) -> Booked:
    """Session 1, which ended an hour ago; linked to R&M's appointment where there is one."""
    starts_at = datetime.now(UTC) - timedelta(hours=2)
    body = {
        "kind": "session",
        "session_number": 1,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=1)).isoformat(),
        "delivery_type": "in-person-probation-office",
        "nps_office_code": "CRS0105",
    }
    client = f"hub-{hub_id}"
    path = f"/cases/{case_id}/appointments"
    appointment = _ok(await clients.call(client, "POST", "case", path, body), 201)
    booked = Booked(hub_id, case_id, str(appointment["id"]))
    if rm is None:
        return booked
    rm_referral_id, rm_appointment_id = rm.split("/")
    link = {"rm_appointment_id": rm_appointment_id}
    linked = f"{path}/{booked.appointment_id}/rm-appointment"
    _ok(await clients.call(client, "PUT", "case", linked, link), 200)
    return Booked(hub_id, case_id, booked.appointment_id, rm_referral_id, rm_appointment_id)


async def ready_cases(clients: Clients, direct: int, rm: int) -> list[Booked]:
    """`direct` + `rm` cases, each with one appointment in the past, every R&M one linked; the
    R&M ones spread evenly through the list."""
    referrals = {**await open_direct(clients, direct), **await open_rm(clients, rm)}
    cases = await opened_cases(clients.stack, set(referrals))
    booked = await bounded(
        list(referrals.items()),
        lambda item: book_in_past(clients, *cases[item[0]], item[1]),
    )
    return _spread(booked[:direct], booked[direct:])


def _spread(many: list[Booked], few: list[Booked]) -> list[Booked]:
    """Both lists in one, each item at its own list's fraction of the way through."""
    placed = [((i + 0.5) / len(many), b) for i, b in enumerate(many)]
    placed += [((i + 0.25) / len(few), b) for i, b in enumerate(few)]
    return [b for _, b in sorted(placed, key=lambda pair: pair[0])]


async def record_non_attendance(clients: Clients, booked: Booked) -> tuple[datetime, float]:
    """The hub records the non-attendance: when the case API answered (wall clock, UTC), and
    how long it took to answer (seconds)."""
    body = {"attended": "no", "session_happened": False, "notify_pp_of_concerns": True}
    path = f"/cases/{booked.case_id}/appointments/{booked.appointment_id}/attendance"
    started = time.perf_counter()
    response = await clients.call(f"hub-{booked.hub_id}", "PUT", "case", path, body)
    took, answered = time.perf_counter() - started, datetime.now(UTC)
    _ok(response, 200)
    return answered, took
