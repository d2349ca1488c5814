"""R&M events pushed to us over HTTPS: as Amazon SNS deliveries, and as bare envelopes.

POST /rm/sns has NO bearer authentication, deliberately: SNS cannot send a token. Its
authenticity is the SNS signature, checked against the signing certificate from an allow-listed
host before anything is read from the message (only local and test may switch that off). A
message whose signature fails is answered 403 and nothing of it is kept or processed.

POST /rm/events takes a bare HMPPS envelope from an authenticated operator or lead provider
(a replay). On both paths a message that cannot be processed is quarantined, and one that failed
transiently is kept as pending and answered 202: it is retried, never lost.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from gmirs_referral_intake.adapters.sns_signature import SnsSignatureError, SnsUnavailableError
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError
from gmirs_referral_intake.domain.sns import (
    NOTIFICATION,
    SUBSCRIPTION_CONFIRMATION,
    is_sns_document,
    load_json_object,
)
from gmirs_referral_intake.entrypoints.quarantine_api import router as quarantine_router
from gmirs_referral_intake.entrypoints.rm_wiring import RmReceiving, RmReceivingDep
from gmirs_referral_intake.handlers.rm_receiving import Receipt, ReceiptStatus
from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.eventing.api import OPERATOR_ROLE
from gmirs_runtime.limits import address_limited_router
from gmirs_runtime.problems import Problem, problem_responses

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024  # SNS and SQS messages are at most 256 KiB
LEAD_PROVIDER = "lead-provider"
Replaying = Annotated[Principal, Depends(require_roles(OPERATOR_ROLE, LEAD_PROVIDER))]

# Deliberately a plain APIRouter (see the module docstring), limited per remote address instead.
sns_router = address_limited_router(prefix="/rm", tags=["refer-and-monitor"])
events_router = authenticated_router(prefix="/rm", tags=["refer-and-monitor"])


class RmMessageReceipt(BaseModel):
    """What became of a pushed message."""

    status: Literal["published", "duplicate", "pending", "quarantined", "confirmed", "ignored"]
    event_identity: uuid.UUID | None = None
    pending_id: uuid.UUID | None = None
    quarantine_id: uuid.UUID | None = None
    reason: str | None = None


_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["eventType", "detailUrl", "occurredAt", "personReference"],
    "properties": {
        "eventType": {"type": "string", "examples": ["intervention.referral.sent"]},
        "version": {"type": "integer", "const": 1},
        "description": {"type": "string"},
        "detailUrl": {"type": "string", "format": "uri"},
        "occurredAt": {"type": "string", "format": "date-time"},
        "additionalInformation": {"type": "object", "additionalProperties": True},
        "personReference": {"type": "object"},
    },
}


def _body(media_type: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    content = {media_type: {"schema": schema}}
    return {"requestBody": {"required": True, "description": description, "content": content}}


@sns_router.post(
    "/sns",
    responses={202: {"model": RmMessageReceipt}, **problem_responses(400, 403, 413, 503)},
    openapi_extra=_body(
        "text/plain", {"type": "string"}, "An Amazon SNS HTTP(S) delivery (JSON, signed)."
    ),
)
async def receive_sns(request: Request, rm: RmReceivingDep, response: Response) -> RmMessageReceipt:
    """An SNS delivery: Notification, SubscriptionConfirmation or UnsubscribeConfirmation."""
    raw = await read_body(request)
    try:
        message = load_json_object(raw, "body")
    except UnusableMessageError:
        raise Problem(400, detail="The body is not an SNS message.") from None
    if not is_sns_document(message):
        raise Problem(400, detail="The body is not an SNS message.")
    await _authenticate(rm, message)
    if message["Type"] == SUBSCRIPTION_CONFIRMATION:
        await _confirm(rm, message.get("SubscribeURL"))
        return RmMessageReceipt(status="confirmed")
    if message["Type"] != NOTIFICATION:
        return RmMessageReceipt(status="ignored")  # UnsubscribeConfirmation: nothing to do
    receipt = await rm.receiver.receive(source="sns-http", raw=raw)
    return _answer(receipt, response)  # quarantined is 200 too: SNS must not redeliver it


@events_router.post(
    "/events",
    responses={202: {"model": RmMessageReceipt}, **problem_responses(413, 422, 503)},
    openapi_extra=_body("application/json", _ENVELOPE_SCHEMA, "A bare HMPPS domain event."),
)
async def receive_rm_event(
    request: Request, principal: Replaying, rm: RmReceivingDep, response: Response
) -> RmMessageReceipt:
    """A bare R&M envelope (a replay); an unusable one is quarantined and answered 422."""
    receipt = await rm.receiver.receive(source="bare", raw=await read_body(request))
    if receipt.status is ReceiptStatus.QUARANTINED:
        raise Problem(
            422,
            detail="The event cannot be processed; it was quarantined.",
            reason=receipt.reason,
            quarantine_id=str(receipt.record_id),
        )
    return _answer(receipt, response)


def rm_routers() -> list[APIRouter]:
    """Every R&M route: SNS push (unauthenticated, signed), bare events, quarantine operations."""
    return [sns_router, events_router, quarantine_router]


async def read_body(request: Request) -> str:
    """The body as text, refusing (413) anything larger than an SNS message can be."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem(413, detail="The body is larger than an SNS message can be.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise Problem(413, detail="The body is larger than an SNS message can be.")
    return body.decode("utf-8", errors="replace")


async def _authenticate(rm: RmReceiving, message: dict[str, Any]) -> None:
    if rm.settings.sns_verify_signatures:
        try:
            await rm.verifier.verify(message)
        except SnsSignatureError as exc:
            log.warning("sns message refused: %s", exc)
            raise Problem(403, detail="The message does not carry a valid SNS signature.") from None
        except SnsUnavailableError as exc:
            log.warning("sns certificate unavailable: %s", exc)
            raise _unavailable("The SNS signing certificate cannot be fetched.") from None
    topics = rm.settings.sns_topic_arns
    if topics and message.get("TopicArn") not in topics:
        raise Problem(403, detail="Messages from this topic are not accepted.")


async def _confirm(rm: RmReceiving, subscribe_url: object) -> None:
    try:
        await rm.verifier.confirm_subscription(subscribe_url)
    except SnsSignatureError:
        raise Problem(403, detail="The SubscribeURL is not an allowed SNS URL.") from None
    except SnsUnavailableError:
        raise _unavailable("The subscription could not be confirmed.") from None
    log.info("sns subscription confirmed")


def _answer(receipt: Receipt, response: Response) -> RmMessageReceipt:
    if receipt.status is ReceiptStatus.PENDING:
        response.status_code = status.HTTP_202_ACCEPTED
    return RmMessageReceipt(
        status=receipt.status.value,
        event_identity=receipt.identity,
        pending_id=receipt.record_id if receipt.status is ReceiptStatus.PENDING else None,
        quarantine_id=receipt.record_id if receipt.status is ReceiptStatus.QUARANTINED else None,
        reason=receipt.reason,
    )


def _unavailable(detail: str) -> Problem:
    return Problem(503, detail=detail, headers={"Retry-After": "30"})
