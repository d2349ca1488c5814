"""A fake probation system that receives GMIRS webhooks the way a real subscriber would.

It verifies Standard Webhooks signatures with the reference library (so our signing is checked by an
independent implementation), dedupes on webhook-id, and can be scripted to fail or stall, so that
notify's retries and acknowledgement records are exercised over real HTTP. It never logs bodies:
they carry personal data.

Run: ``python -m tests.fakes.probation_system --port P --secret whsec_... [--secret ...]
[--fail-first N] [--status-sequence 500,500,200] [--delay-ms N] [--retry-after-s N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes._probation_records import Behaviour, BehaviourUpdate, Delivery, Rejection, utc_now
from tests.fakes._serve import add_server_arguments, serve

WEBHOOK_PATH = "/webhooks/gmirs"
REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_log = logging.getLogger("fake.probation_system")


class ProbationSystem:
    """One fake webhook endpoint: its secrets, what it received, and how it is told to behave."""

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        path: str = WEBHOOK_PATH,
        behaviour: Behaviour | None = None,
    ) -> None:
        self._webhooks: list[Webhook] = []
        self.set_secrets(secrets)
        self.deliveries: list[Delivery] = []
        self.rejections: list[Rejection] = []
        self.behaviour = behaviour or Behaviour()
        self.app = Starlette(
            routes=[
                Route(path, self._receive, methods=["POST"]),
                Route("/_control/health", self._health, methods=["GET"]),
                Route("/_control/deliveries", self._list_deliveries, methods=["GET"]),
                Route("/_control/rejections", self._list_rejections, methods=["GET"]),
                Route("/_control/reset", self._reset, methods=["POST"]),
                Route("/_control/behaviour", self._behave, methods=["POST"]),
                Route("/_control/secrets", self._replace_secrets, methods=["POST"]),
            ]
        )
        self.app.state.probation = self

    def set_secrets(self, secrets: Sequence[str]) -> None:
        """Accept a delivery signed with any of `secrets` (rotation without downtime)."""
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        self._webhooks = [Webhook(secret) for secret in secrets]

    def reset(self) -> None:
        """Forget every delivery and rejection, and stop any scripted misbehaviour."""
        self.deliveries.clear()
        self.rejections.clear()
        self.behaviour = Behaviour()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Return the index of the first secret whose signature matches; raise if none does."""
        error: Exception = WebhookVerificationError("no secret configured")
        for index, webhook in enumerate(self._webhooks):
            try:
                webhook.verify(body, dict(headers), json_parse=False)
            except (WebhookVerificationError, ValueError) as exc:
                error = exc
            else:
                return index
        raise WebhookVerificationError(str(error))

    async def _receive(self, request: Request) -> Response:
        """Verify, dedupe, record, then answer as scripted."""
        body = await request.body()
        webhook_id = request.headers.get("webhook-id")
        missing = [name for name in REQUIRED_HEADERS if not request.headers.get(name)]
        if missing:
            return self._reject(webhook_id, 400, f"missing headers: {', '.join(missing)}")
        try:
            secret_index = self.verify(body, request.headers)
        except WebhookVerificationError as exc:
            return self._reject(webhook_id, 401, str(exc))
        try:
            payload = json.loads(body)
        except ValueError:
            return self._reject(webhook_id, 400, "body is not JSON")
        delivery = self._record(request, payload, secret_index)
        if self.behaviour.delay_ms:
            # Recorded before the stall: a subscriber that processed but answered too late is
            # exactly the case that makes the sender redeliver a duplicate.
            await asyncio.sleep(self.behaviour.delay_ms / 1000)
        return self._answer(delivery)

    def _record(self, request: Request, payload: Any, secret_index: int) -> Delivery:
        webhook_id = request.headers["webhook-id"]
        earlier = [d for d in self.deliveries if d.webhook_id == webhook_id]
        status = self.behaviour.next_status()
        delivery = Delivery(
            webhook_id=webhook_id,
            webhook_timestamp=request.headers["webhook-timestamp"],
            received_at=utc_now(),
            body=payload,
            traceparent=request.headers.get("traceparent"),
            attempt=len(earlier) + 1,
            verified=True,
            secret_index=secret_index,
            status=status,
            accepted=200 <= status < 300,
            duplicate=any(d.accepted for d in earlier),
        )
        self.deliveries.append(delivery)
        _log.info(
            "delivery webhook_id=%s attempt=%d status=%d duplicate=%s",
            delivery.webhook_id,
            delivery.attempt,
            delivery.status,
            delivery.duplicate,
        )
        return delivery

    def _answer(self, delivery: Delivery) -> Response:
        if delivery.accepted:
            content = {"webhook_id": delivery.webhook_id, "duplicate": delivery.duplicate}
            return JSONResponse(content, status_code=delivery.status)
        headers = {}
        if self.behaviour.retry_after_s is not None:
            headers["Retry-After"] = str(self.behaviour.retry_after_s)
        return JSONResponse({"error": "scripted failure"}, delivery.status, headers=headers)

    def _reject(self, webhook_id: str | None, status: int, reason: str) -> Response:
        self.rejections.append(Rejection(webhook_id, utc_now(), status, reason))
        _log.warning("rejected webhook_id=%s status=%d reason=%s", webhook_id, status, reason)
        return JSONResponse({"error": reason}, status_code=status)

    async def _health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _list_deliveries(self, request: Request) -> Response:
        wanted = request.query_params.get("webhook_id")
        found = [asdict(d) for d in self.deliveries if wanted in (None, d.webhook_id)]
        return JSONResponse(found)

    async def _list_rejections(self, _: Request) -> Response:
        return JSONResponse([asdict(r) for r in self.rejections])

    async def _reset(self, _: Request) -> Response:
        self.reset()
        return JSONResponse({"status": "reset"})

    async def _behave(self, request: Request) -> Response:
        try:
            update = BehaviourUpdate.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": exc.errors(include_url=False)}, status_code=422)
        update.apply_to(self.behaviour)
        return JSONResponse(self.behaviour.describe())

    async def _replace_secrets(self, request: Request) -> Response:
        try:
            secrets = json.loads(await request.body())["secrets"]
            self.set_secrets([str(secret) for secret in secrets])
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad secrets: {type(exc).__name__}"}, status_code=422)
        return JSONResponse({"secrets": len(self._webhooks)})


def create_app(
    secrets: Sequence[str],
    *,
    path: str = WEBHOOK_PATH,
    fail_first: int = 0,
    status_sequence: Sequence[int] = (),
    delay_ms: int = 0,
    retry_after_s: int | None = None,
) -> Starlette:
    """Build the fake's app; its state is `app.state.probation` (a `ProbationSystem`)."""
    behaviour = Behaviour.scripted(fail_first, status_sequence, delay_ms, retry_after_s)
    return ProbationSystem(secrets, path=path, behaviour=behaviour).app


def _parse_statuses(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: parse options and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_server_arguments(parser)
    parser.add_argument("--secret", action="append", required=True, help="whsec_ secret")
    parser.add_argument("--path", default=WEBHOOK_PATH)
    parser.add_argument("--fail-first", type=int, default=0, help="answer 500 to the first N")
    parser.add_argument("--status-sequence", type=_parse_statuses, default=[], help="e.g. 500,200")
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--retry-after-s", type=int, default=None)
    args = parser.parse_args(argv)
    app = create_app(
        args.secret,
        path=args.path,
        fail_first=args.fail_first,
        status_sequence=args.status_sequence,
        delay_ms=args.delay_ms,
        retry_after_s=args.retry_after_s,
    )
    serve(app, port=args.port, max_lifetime_s=args.max_lifetime_s)


if __name__ == "__main__":
    main()
