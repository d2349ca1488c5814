"""A fake Refer and Monitor (R&M) with its HMPPS Auth, publishing HMPPS domain events as R&M does.

Run: ``python -m tests.fakes.rm_simulator --port P [--base-url URL] [--sns-topic-arn ARN
--aws-endpoint URL] [--push-url URL [--push-topic-arn ARN]] [--token-ttl S] [--client-id ID
--client-secret S] [--seed N]``; in process: ``create_app(...)`` (state at ``app.state.rm``).

HMPPS Auth (under /auth, so HMPPS_AUTH_URL is ``<base>/auth``):
  POST /auth/oauth/token            client credentials (HTTP Basic; form fields also accepted) ->
                                    RS256 JWT, ``authorities: [ROLE_INTERVENTIONS_API_READ_ALL]``,
                                    ``expires_in`` = token TTL; 401 invalid_client, 400 bad grant
  GET  /auth/.well-known/jwks.json  the public key
R&M API (bearer token required: missing/expired/revoked -> 401, no accepted role -> 403):
  GET /sent-referral/{id}  GET /sent-referrals/summaries?page=1&size=50 (1-indexed request, Spring
  Page response with 0-based ``number``; filters completed / cancelled / unassigned)
  GET /service-category/{id}  GET /sent-referral/{id}/supplier-assessment
  GET /referral/{id}/sessions/{n}  GET /action-plan/{id}  GET /end-of-service-report/{id}
  Feedback, mapped to a user (a token from a client-credentials grant with ``username``; a bare
  client token -> 403, as is a user in faults' ``unmapped_users``): PUT
  /referral/{id}/delivery-session-appointments/{appointmentId}/attendance | /session-feedback,
  POST .../submit-feedback; PUT /referral/{id}/supplier-assessment/record-attendance |
  /record-session-feedback, POST .../submit-feedback. 400 future appointment or missing fields,
  409 after submission, 422 submit without attendance and session feedback; submit publishes.
SNS side: GET /_sns/certificate.pem (the signing certificate named in SigningCertURL);
  GET /_sns/?Action=ConfirmSubscription&Token=... (the SubscribeURL of a confirmation).

Scenario control (JSON bodies, all optional fields; see rm_requests for every field). Actions answer
``{<new ids>, "events": [publication...]}``; a publication has seq, event_type, message (the SNS
Message text), envelope (the bare envelope), state (published | held | withheld), channels,
duplicate, sns_message_id / sns_error, push_status / push_error / push_message_id, tampered.
Every action takes delivery (publish | hold | withhold), channels (["sns", "push"]), order
(as-is | reversed) and legacy (older additionalInformation names: contractType, providerName,
numeric deliusAppointmentId).
  POST /_control/referrals                      create + send -> referral.sent
       {crn, first_name, last_name, date_of_birth, pdu ("Bolton"), contract_reference (default the
       PDU's DN671065_<BOROUGH>_PWB; null for none), service_categories, complexity, sent_at, ...}
  POST /_control/referrals/{id}/assign          {username} -> referral.assigned
  POST /_control/referrals/{id}/action-plans    {number_of_sessions, activities} -> action-plan.submitted
  POST /_control/action-plans/{id}/approve      {approved_by} -> action-plan.approved (creates sessions)
  POST /_control/referrals/{id}/initial-assessment  {attended yes|late|no, did_session_happen, ...}
       -> initial-assessment-appointment.attended|missed, then ...session-feedback-submitted
  POST /_control/referrals/{id}/sessions/{n}    same body -> session-appointment.attended|missed,
       then session-appointment.session-feedback-submitted
  POST /_control/referrals/{id}/sessions/{n}/schedule  {appointment_time (default an hour ago),
       duration_minutes} -> a new appointment without feedback (publishes nothing, as R&M)
  POST /_control/referrals/{id}/initial-assessment/schedule  the same for the supplier assessment
  POST /_control/referrals/{id}/end-of-service-report  {achievement_level} -> end-of-service-report.submitted
  POST /_control/referrals/{id}/end             {reason_code, delivery_state} -> referral.ended
  POST /_control/referrals/{id}/conclude        {delivery_state} -> referral.concluded
  POST /_control/referrals/{id}/withdraw        {code, withdrawal_state} -> referral.concluded, referral.ended
  POST /_control/publish-raw                    {message (text or JSON), event_type (SNS attribute)}
  POST /_control/release                        {order} send every held publication
  POST /_control/push/subscription-confirmation send a signed SubscriptionConfirmation to the push URL
  POST /_control/faults (GET: current)          {clear, api_status, api_fail_requests, api_fail_seconds,
       api_delay_ms, not_found_ids, token_status, token_fail_requests, token_fail_seconds,
       duplicate_next, tamper_next_pushes, delivery (default for actions), signature_version "1"|"2",
       unmapped_users, api_paths_matching (the API faults hit only paths containing it),
       hold_requests (API requests wait unanswered until it is lifted; 60 s at most)}
  POST /_control/expire-tokens                  every token issued so far is now expired
  GET  /_control/published?event_type=&state=   GET /_control/requests (API calls and statuses)
  GET  /_control/stats   GET /_control/health   POST /_control/reset
Personal data (names, CRNs) appears in API answers and control answers only, never in logs.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes._serve import add_server_arguments, serve
from tests.fakes.rm_auth import HmppsAuth
from tests.fakes.rm_control import Control
from tests.fakes.rm_endpoints import RmEndpoints
from tests.fakes.rm_events import EventFactory
from tests.fakes.rm_faults import Faults
from tests.fakes.rm_feedback import RmFeedback
from tests.fakes.rm_model import RmStore
from tests.fakes.rm_publisher import Publisher
from tests.fakes.rm_requests import ControlRequestError, control_error_handler
from tests.fakes.rm_scenario import Scenario
from tests.fakes.rm_sns import SnsPublisher, SnsPusher, SnsSigner, SnsTarget

DEFAULT_CLIENT_ID = "gmirs-intake"
DEFAULT_CLIENT_SECRET = "rm-simulator-secret"
DEFAULT_TOKEN_TTL_S = 1200  # HMPPS Auth's client-credentials tokens last 20 minutes
DEFAULT_PUSH_TOPIC_ARN = "arn:aws:sns:eu-west-2:000000000000:hmpps-domain-events"


@dataclass
class RmSimulator:
    """Everything the simulator holds; tests running it in process reach it as `app.state.rm`."""

    base_url: str
    store: RmStore
    auth: HmppsAuth
    faults: Faults
    signer: SnsSigner
    publisher: Publisher
    endpoints: RmEndpoints
    scenario: Scenario
    control: Control

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/auth"

    async def certificate(self, _: Request) -> Response:
        return Response(self.signer.certificate_pem, media_type="application/x-pem-file")

    async def token(self, request: Request) -> Response:
        return await self.auth.token_endpoint(request, self.faults.token)

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(self.auth.jwks())


def create_app(
    *,
    base_url: str,
    sns: SnsTarget | None,
    push_url: str | None,
    token_ttl: int,
    client_id: str,
    client_secret: str,
    push_topic_arn: str | None = None,
    seed: int | None = None,
) -> Starlette:
    """Build the simulator; `base_url` is where it is reachable (detail URLs point there)."""
    base_url = base_url.rstrip("/")
    faults, store = Faults(), RmStore(rng=random.Random(seed))
    auth = HmppsAuth(f"{base_url}/auth/issuer", client_id, client_secret, token_ttl)
    signer = SnsSigner(f"{base_url}/_sns/certificate.pem")
    topic = push_topic_arn or (sns.topic_arn if sns else DEFAULT_PUSH_TOPIC_ARN)
    pusher = SnsPusher(push_url, topic, signer, base_url) if push_url else None
    publisher = Publisher(SnsPublisher(sns) if sns else None, pusher, faults)
    endpoints = RmEndpoints(store, auth, faults)
    scenario = Scenario(store, EventFactory(base_url))
    feedback = RmFeedback(store, auth, faults, publisher, scenario.events)
    control = Control(scenario, publisher, auth, endpoints, base_url, feedback)
    sim = RmSimulator(
        base_url, store, auth, faults, signer, publisher, endpoints, scenario, control
    )
    routes = [
        Route("/auth/oauth/token", sim.token, methods=["POST"]),
        Route("/auth/.well-known/jwks.json", sim.jwks, methods=["GET"]),
        Route("/_sns/certificate.pem", sim.certificate, methods=["GET"]),
        *endpoints.routes(),
        *endpoints.gated_routes(feedback.handlers()),
        *control.routes(),
    ]
    app = Starlette(routes=routes, exception_handlers={ControlRequestError: control_error_handler})
    app.state.rm = sim
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: parse options and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_server_arguments(parser)
    parser.add_argument("--base-url", help="URL clients use (default http://127.0.0.1:PORT)")
    parser.add_argument("--sns-topic-arn", help="publish events to this SNS topic")
    parser.add_argument("--aws-endpoint", help="SNS endpoint (moto), with --sns-topic-arn")
    parser.add_argument("--push-url", help="also push signed SNS HTTP notifications here")
    parser.add_argument("--push-topic-arn", help="TopicArn in pushed messages")
    parser.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL_S)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--seed", type=int, default=None, help="fix generated ids and names")
    args = parser.parse_args(argv)
    if bool(args.sns_topic_arn) != bool(args.aws_endpoint):
        parser.error("--sns-topic-arn and --aws-endpoint go together")
    sns = SnsTarget(args.sns_topic_arn, args.aws_endpoint) if args.sns_topic_arn else None
    app = create_app(
        base_url=args.base_url or f"http://127.0.0.1:{args.port}",
        sns=sns,
        push_url=args.push_url,
        token_ttl=args.token_ttl,
        client_id=args.client_id,
        client_secret=args.client_secret,
        push_topic_arn=args.push_topic_arn,
        seed=args.seed,
    )
    serve(app, port=args.port, max_lifetime_s=args.max_lifetime_s)


if __name__ == "__main__":
    main()
