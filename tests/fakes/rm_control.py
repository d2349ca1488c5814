"""Scenario control for the R&M simulator (everything under /_control, plus the SNS side-doors).

Each action changes R&M's state and publishes the events R&M would, answering with the new ids and
one record per publication (its bare envelope included, for replays over HTTP).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.rm_auth import HmppsAuth
from tests.fakes.rm_endpoints import RmEndpoints
from tests.fakes.rm_faults import FaultsUpdate
from tests.fakes.rm_feedback import RmFeedback
from tests.fakes.rm_model import Referral
from tests.fakes.rm_publisher import Publisher
from tests.fakes.rm_requests import (
    Action,
    ApproveActionPlan,
    Assign,
    Attendance,
    Conclude,
    ControlRequestError,
    End,
    NewReferral,
    RawPublish,
    Release,
    Schedule,
    SubmitActionPlan,
    SubmitEndOfServiceReport,
    Withdraw,
    not_found,
    parse,
    parse_id,
)
from tests.fakes.rm_scenario import Scenario


@dataclass
class Control:
    scenario: Scenario
    publisher: Publisher
    auth: HmppsAuth
    endpoints: RmEndpoints
    base_url: str
    feedback: RmFeedback
    confirmed_tokens: set[str] = field(default_factory=set)
    offered_tokens: set[str] = field(default_factory=set)

    def routes(self) -> list[Route]:
        post, get = ["POST"], ["GET"]
        r = "/_control/referrals/{id}"
        return [
            Route("/_control/health", self.health, methods=get),
            Route("/_control/reset", self.reset, methods=post),
            Route("/_control/published", self.published, methods=get),
            Route("/_control/requests", self.api_requests, methods=get),
            Route("/_control/stats", self.stats, methods=get),
            Route("/_control/faults", self.faults, methods=["GET", "POST"]),
            Route("/_control/expire-tokens", self.expire_tokens, methods=post),
            Route("/_control/release", self.release, methods=post),
            Route("/_control/publish-raw", self.publish_raw, methods=post),
            Route(
                "/_control/push/subscription-confirmation", self.offer_subscription, methods=post
            ),
            Route("/_control/referrals", self.create_referral, methods=post),
            Route(f"{r}/assign", self.assign, methods=post),
            Route(f"{r}/action-plans", self.submit_action_plan, methods=post),
            Route("/_control/action-plans/{id}/approve", self.approve_action_plan, methods=post),
            Route(f"{r}/initial-assessment", self.initial_assessment, methods=post),
            Route(f"{r}/sessions/{{number:int}}", self.session, methods=post),
            Route(f"{r}/sessions/{{number:int}}/schedule", self.schedule, methods=post),
            Route(f"{r}/initial-assessment/schedule", self.schedule, methods=post),
            Route(f"{r}/end-of-service-report", self.end_of_service_report, methods=post),
            Route(f"{r}/end", self.end, methods=post),
            Route(f"{r}/conclude", self.conclude, methods=post),
            Route(f"{r}/withdraw", self.withdraw, methods=post),
            Route("/_sns/", self.sns_action, methods=get),
        ]

    async def health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def reset(self, _: Request) -> Response:
        """Forget all referrals, publications, requests and faults (keys and tokens stay valid).

        Requests still being answered (delayed by an earlier fault) finish first, so nothing from
        before the reset reaches the log after it.
        """
        self.publisher.faults.hold_requests = False
        await self.endpoints.settle()
        self.publisher.faults.reset()
        self.publisher.reset(self.publisher.faults)
        self.scenario.store.clear()
        self.endpoints.requests.clear()
        self.feedback.submits.clear()
        return JSONResponse({"status": "reset"})

    async def published(self, request: Request) -> Response:
        wanted_type, wanted_state = (request.query_params.get(k) for k in ("event_type", "state"))
        found = [
            p.describe()
            for p in self.publisher.publications
            if wanted_type in (None, p.event_type) and wanted_state in (None, p.state)
        ]
        return JSONResponse(found)

    async def api_requests(self, _: Request) -> Response:
        return JSONResponse([vars(r) for r in self.endpoints.requests])

    async def stats(self, _: Request) -> Response:
        publications = self.publisher.publications
        return JSONResponse(
            {
                "tokens_issued": self.auth.tokens_issued,
                "api_requests": len(self.endpoints.requests),
                "api_in_flight": self.endpoints.in_flight,
                "api_held": self.endpoints.held,
                "published": sum(p.state == "published" for p in publications),
                "held": sum(p.state == "held" for p in publications),
                "withheld": sum(p.state == "withheld" for p in publications),
                "subscription_confirmed": bool(self.confirmed_tokens),
                "feedback_submitted": len(self.feedback.submits),
            }
        )

    async def faults(self, request: Request) -> Response:
        if request.method == "POST":
            (await parse(request, FaultsUpdate)).apply_to(self.publisher.faults)
        return JSONResponse(self.publisher.faults.describe())

    async def expire_tokens(self, _: Request) -> Response:
        self.auth.expire_all()
        return JSONResponse({"expired_before": self.auth.revoked_before})

    async def release(self, request: Request) -> Response:
        body = await parse(request, Release)
        released = await self.publisher.release(reverse=body.order == "reversed")
        return JSONResponse({"events": [p.describe() for p in released]})

    async def publish_raw(self, request: Request) -> Response:
        body = await parse(request, RawPublish)
        text = body.message if isinstance(body.message, str) else json.dumps(body.message)
        sent = await self.publisher.publish_raw(text, body.event_type, channels=body.channels)
        return JSONResponse({"events": [p.describe() for p in sent]})

    async def offer_subscription(self, _: Request) -> Response:
        """Send a signed SubscriptionConfirmation to the push URL, as SNS does on subscribe."""
        pusher = self.publisher.pusher
        if pusher is None:
            return JSONResponse({"error": "no push URL configured"}, status_code=409)
        token = secrets.token_hex(32)
        self.offered_tokens.add(token)
        url = f"{self.base_url}/_sns/?Action=ConfirmSubscription&TopicArn={pusher.topic_arn}&Token={token}"
        body = pusher.confirmation(url, token, version=self.publisher.faults.signature_version)
        try:
            status = await pusher.push(body)
        except httpx.HTTPError as exc:  # the subscriber is down: SNS would retry, we report it
            return JSONResponse({"error": type(exc).__name__, "token": token}, status_code=502)
        return JSONResponse({"status": status, "token": token, "subscribe_url": url})

    async def sns_action(self, request: Request) -> Response:
        """The SubscribeURL target: confirming records the subscription, as SNS would."""
        query = request.query_params
        if (
            query.get("Action") != "ConfirmSubscription"
            or query.get("Token") not in self.offered_tokens
        ):
            return Response("<ErrorResponse/>", status_code=400, media_type="text/xml")
        self.confirmed_tokens.add(str(query["Token"]))
        arn = f"{self.publisher.pusher.subscription_arn if self.publisher.pusher else ''}"
        xml = (
            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>"
            f"{arn}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
        )
        return Response(xml, media_type="text/xml")

    async def create_referral(self, request: Request) -> Response:
        body = await parse(request, NewReferral)
        referral, envelopes = self.scenario.create_referral(body)
        ids = {
            "referral_id": str(referral.id),
            "reference_number": referral.reference_number,
            "crn": referral.crn,
            "contract_reference": referral.contract_reference,
        }
        return await self._publish(body, envelopes, ids)

    async def assign(self, request: Request) -> Response:
        body = await parse(request, Assign)
        referral = self._referral(request)
        return await self._publish(body, self.scenario.assign(referral, body), {})

    async def submit_action_plan(self, request: Request) -> Response:
        body = await parse(request, SubmitActionPlan)
        plan, envelopes = self.scenario.submit_action_plan(self._referral(request), body)
        return await self._publish(body, envelopes, {"action_plan_id": str(plan.id)})

    async def approve_action_plan(self, request: Request) -> Response:
        body = await parse(request, ApproveActionPlan)
        plan = self.scenario.store.action_plans.get(parse_id(request.path_params["id"]))
        if plan is None:
            return not_found("action plan")
        envelopes = self.scenario.approve_action_plan(plan, body.approved_by, legacy=body.legacy)
        return await self._publish(body, envelopes, {"action_plan_id": str(plan.id)})

    async def initial_assessment(self, request: Request) -> Response:
        return await self._attendance(request, None)

    async def session(self, request: Request) -> Response:
        return await self._attendance(request, int(request.path_params["number"]))

    async def _attendance(self, request: Request, number: int | None) -> Response:
        body = await parse(request, Attendance)
        referral = self._referral(request)
        appointment, envelopes = self.scenario.record_attendance(referral, body, number)
        ids = {
            "appointment_id": str(appointment.id),
            "delius_appointment_id": appointment.delius_appointment_id,
        }
        return await self._publish(body, envelopes, ids)

    async def schedule(self, request: Request) -> Response:
        body = await parse(request, Schedule)
        number = request.path_params.get("number")
        appointment = self.scenario.schedule(self._referral(request), body, number)
        ids = {"appointment_id": str(appointment.id)}
        return JSONResponse(ids | {"appointment_time": appointment.appointment_time.isoformat()})

    async def end_of_service_report(self, request: Request) -> Response:
        body = await parse(request, SubmitEndOfServiceReport)
        report, envelopes = self.scenario.submit_end_of_service_report(
            self._referral(request), body
        )
        return await self._publish(body, envelopes, {"end_of_service_report_id": str(report.id)})

    async def end(self, request: Request) -> Response:
        body = await parse(request, End)
        return await self._publish(body, self.scenario.end(self._referral(request), body), {})

    async def conclude(self, request: Request) -> Response:
        body = await parse(request, Conclude)
        return await self._publish(body, self.scenario.conclude(self._referral(request), body), {})

    async def withdraw(self, request: Request) -> Response:
        body = await parse(request, Withdraw)
        return await self._publish(body, self.scenario.withdraw(self._referral(request), body), {})

    def _referral(self, request: Request) -> Referral:
        referral = self.scenario.store.referral_for(parse_id(request.path_params["id"]))
        if referral is None:
            raise ControlRequestError(not_found("referral"))
        return referral

    async def _publish(
        self, action: Action, envelopes: Sequence[dict[str, Any]], ids: dict[str, Any]
    ) -> Response:
        ordered = list(reversed(envelopes)) if action.order == "reversed" else list(envelopes)
        sent = await self.publisher.publish_events(
            ordered, delivery=action.delivery, channels=action.channels
        )
        return JSONResponse({**ids, "events": [p.describe() for p in sent]})
