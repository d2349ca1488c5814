"""The R&M API endpoints intake calls, behind the same gate every request passes: injected outages
and delays first (as a failing gateway would answer), then the bearer token, then 404s on demand."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import rm_dto
from tests.fakes.rm_auth import HmppsAuth
from tests.fakes.rm_faults import Faults
from tests.fakes.rm_model import PWB_CATEGORIES, Referral, RmStore, category_id

Handler = Callable[[Request], Awaitable[Response]]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 2000
SETTLE_TIMEOUT_S = 30.0  # above any api_delay_ms a test injects
HOLD_LIMIT_S = 60.0  # a held request is answered after this even if the test never lifts the hold
_log = logging.getLogger("fake.rm_simulator")


class NotFoundError(Exception):
    """Answered as R&M's 404 error body."""


class BadRequestError(Exception):
    """Answered as R&M's 400 error body (e.g. an id that is not a UUID)."""


@dataclass
class ApiRequest:
    """One API request as the simulator answered it (paths hold ids only, no personal data)."""

    method: str
    path: str
    status: int


@dataclass
class RmEndpoints:
    store: RmStore
    auth: HmppsAuth
    faults: Faults
    requests: list[ApiRequest] = field(default_factory=list)
    in_flight: int = 0
    held: int = 0

    def routes(self) -> list[Route]:
        gate = self._gated
        return [
            Route("/sent-referral/{id}", gate(self.sent_referral), methods=["GET"]),
            Route("/sent-referrals/summaries", gate(self.summaries), methods=["GET"]),
            Route("/service-category/{id}", gate(self.service_category), methods=["GET"]),
            Route(
                "/sent-referral/{id}/supplier-assessment",
                gate(self.supplier_assessment),
                methods=["GET"],
            ),
            Route("/referral/{id}/sessions/{number:int}", gate(self.session), methods=["GET"]),
            Route("/action-plan/{id}", gate(self.action_plan), methods=["GET"]),
            Route("/end-of-service-report/{id}", gate(self.end_of_service_report), methods=["GET"]),
        ]

    def gated_routes(self, handlers: list[tuple[str, Handler, list[str]]]) -> list[Route]:
        """More endpoints behind the same gate (faults, token, 404s on demand)."""
        return [Route(path, self._gated(handler), methods=m) for path, handler, m in handlers]

    def _gated(self, handler: Handler) -> Handler:
        async def gated(request: Request) -> Response:
            self.in_flight += 1
            try:
                response = await self._answer(handler, request)
            finally:
                self.in_flight -= 1
            self.requests.append(ApiRequest(request.method, request.url.path, response.status_code))
            _log.info("api %s %s -> %d", request.method, request.url.path, response.status_code)
            return response

        return gated

    async def settle(self) -> None:
        """Wait until every request received so far is answered (and logged).

        A client that gives up (a timeout under `api_delay_ms`) leaves its request running here, as
        R&M would; it is answered seconds later, when a later test may have revoked the token it
        carries (a 401) or be asserting on the request log. A reset waits for it instead.
        """
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def _answer(self, handler: Handler, request: Request) -> Response:
        if self.faults.hits(request.url.path):
            await self._hold()
            if self.faults.api_delay_ms:
                await asyncio.sleep(self.faults.api_delay_ms / 1000)
            if self.faults.api.hit():
                return _error(self.faults.api.status, "injected failure")
        refused = self.auth.check(request)
        if refused is not None:
            return refused
        if self.faults.not_found_ids.intersection(request.url.path.split("/")):
            return _error(404, "not found (injected)")
        try:
            return await handler(request)
        except NotFoundError as exc:
            return _error(404, str(exc))
        except BadRequestError as exc:
            return _error(400, str(exc))

    async def _hold(self) -> None:
        """Keep the request unanswered while the hold lasts (bounded), then answer it as usual:
        R&M finishes what it was given even when the caller has gone."""
        if not self.faults.hold_requests:
            return
        self.held += 1
        try:
            deadline = time.monotonic() + HOLD_LIMIT_S
            while self.faults.hold_requests and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        finally:
            self.held -= 1

    def _referral(self, request: Request) -> Referral:
        referral = self.store.referral_for(_uuid(request.path_params["id"]))
        if referral is None:
            raise NotFoundError(f"sent referral not found [id={request.path_params['id']}]")
        return referral

    async def sent_referral(self, request: Request) -> Response:
        return JSONResponse(rm_dto.sent_referral(self._referral(request), self.store))

    async def summaries(self, request: Request) -> Response:
        """Spring Page, `page` 1-indexed in the request (0 also means the first page), sorted by sentAt."""
        query = request.query_params
        try:
            page = max(int(query.get("page", "1")) - 1, 0)
            size = min(max(int(query.get("size", str(DEFAULT_PAGE_SIZE))), 1), MAX_PAGE_SIZE)
        except ValueError:
            return _error(400, "page and size must be integers")
        rows = sorted(self.store.referrals.values(), key=lambda r: (r.sent_at, str(r.id)))
        rows = [r for r in rows if _matches(r, query)]
        content = [rm_dto.summary(r) for r in rows[page * size : (page + 1) * size]]
        return JSONResponse(rm_dto.spring_page(content, page=page, size=size, total=len(rows)))

    async def service_category(self, request: Request) -> Response:
        wanted = _uuid(request.path_params["id"])
        for name in PWB_CATEGORIES:
            if category_id(name) == wanted:
                return JSONResponse(rm_dto.service_category(name))
        raise NotFoundError(f"service category not found [id={request.path_params['id']}]")

    async def supplier_assessment(self, request: Request) -> Response:
        return JSONResponse(rm_dto.supplier_assessment(self._referral(request)))

    async def session(self, request: Request) -> Response:
        referral, number = self._referral(request), int(request.path_params["number"])
        if number not in referral.sessions:
            raise NotFoundError(f"delivery session not found [sessionNumber={number}]")
        return JSONResponse(rm_dto.delivery_session(referral, number))

    async def action_plan(self, request: Request) -> Response:
        plan = self.store.action_plans.get(_uuid(request.path_params["id"]))
        if plan is None:
            raise NotFoundError(f"action plan not found [id={request.path_params['id']}]")
        return JSONResponse(rm_dto.action_plan(plan))

    async def end_of_service_report(self, request: Request) -> Response:
        report = self.store.reports.get(_uuid(request.path_params["id"]))
        if report is None:
            raise NotFoundError(f"end of service report not found [id={request.path_params['id']}]")
        return JSONResponse(rm_dto.end_of_service_report(report))


def _matches(referral: Referral, query: Any) -> bool:
    """The dashboard filters: completed, cancelled (concluded with or without an EoSR), unassigned."""
    concluded = referral.concluded_at is not None
    checks = {
        "completed": concluded and referral.eosr_id is not None,
        "cancelled": concluded and referral.eosr_id is None,
        "unassigned": referral.assigned_to is None,
    }
    for name, actual in checks.items():
        wanted = query.get(name)
        if wanted is not None and (wanted.lower() == "true") != actual:
            return False
    return True


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadRequestError(f"invalid id [{text}]") from None


def _error(status: int, message: str) -> Response:
    """R&M's error body shape."""
    error = {404: "not found", 400: "bad request"}.get(status, "internal server error")
    body = {"status": status, "error": error, "message": message, "userMessage": None}
    return JSONResponse(body, status_code=status)
