"""A fake of GOV.UK Notify's REST API (v2 email), faithful to what notify's client relies on.

Authentication is checked the way Notify checks it, with the functions Notify's own API uses from
`notifications-python-client`: a bearer JWT, HS256, `iss` = the service id (which finds the
service's keys), signed with an API key's secret, `iat` within 30 seconds of now; a refusal is a
403 `AuthError` (401 when no token is sent). `POST /v2/notifications/email` checks the template
and its personalisation like Notify (400 `BadRequestError` / `ValidationError`) and answers 201
with the rendered content; `GET /v2/notifications/{id}` answers the notification and its status.
Notify's simulated addresses behave as documented (`simulate-delivered...` delivered,
`temp-fail@simulator.notify` temporary-failure, `perm-fail@simulator.notify` permanent-failure);
other addresses are delivered at once unless the fake is told to hold them in `sending`.

Run: ``python -m tests.fakes.gov_notify --port P --api-key KEY --template ID=SUBJECT|BODY``.
"""

from __future__ import annotations

import argparse
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenError, TokenExpiredError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes._serve import add_server_arguments, serve

PLACEHOLDER = re.compile(r"\(\(([^)]+)\)\)")
SIMULATED = {
    "simulate-delivered@notifications.service.gov.uk": "delivered",
    "simulate-delivered-2@notifications.service.gov.uk": "delivered",
    "simulate-delivered-3@notifications.service.gov.uk": "delivered",
    "temp-fail@simulator.notify": "temporary-failure",
    "perm-fail@simulator.notify": "permanent-failure",
}
CLOCK_ERROR = "Error: Your system clock must be accurate to within 30 seconds"


@dataclass(frozen=True, slots=True)
class Template:
    subject: str
    body: str

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.subject + self.body))

    def render(self, personalisation: Mapping[str, str]) -> tuple[str, str]:
        def fill(text: str) -> str:
            return PLACEHOLDER.sub(lambda m: str(personalisation[m.group(1)]), text)

        return fill(self.subject), fill(self.body)


@dataclass(slots=True)
class Notification:
    id: str
    email_address: str
    template_id: str
    personalisation: dict[str, str]
    reference: str | None
    subject: str
    body: str
    status: str
    created_at: str
    completed_at: str | None = None


def api_key_parts(api_key: str) -> tuple[str, str]:
    """(service id, secret) from a Notify API key `name-<service id>-<secret>`, as the client."""
    return api_key[-73:-37], api_key[-36:]


@dataclass
class GovNotify:
    """One fake Notify service: its keys, templates and the notifications it accepted."""

    api_keys: Sequence[str]
    templates: Mapping[str, Template]
    hold_in_sending: bool = False
    notifications: dict[str, Notification] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/v2/notifications/email", self._send_email, methods=["POST"]),
                Route("/v2/notifications/{notification_id}", self._get, methods=["GET"]),
                Route("/_control/health", self._health, methods=["GET"]),
                Route("/_control/notifications", self._list, methods=["GET"]),
                Route("/_control/notifications/{notification_id}", self._set, methods=["POST"]),
                Route("/_control/reset", self._reset, methods=["POST"]),
            ]
        )
        self.app.state.notify = self

    def authenticate(self, authorization: str | None) -> JSONResponse | None:
        """None if the request carries a valid token, else Notify's error response."""
        if not authorization or not authorization.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            service_id = get_token_issuer(token)  # type: ignore[no-untyped-call]
        except TokenError:
            return self._refuse("Invalid token: iss field not provided")
        secrets = [secret for sid, secret in map(api_key_parts, self.api_keys) if sid == service_id]
        if not secrets:
            return self._refuse("Invalid token: service not found")
        for secret in secrets:
            try:
                decode_jwt_token(token, secret)  # type: ignore[no-untyped-call]
                return None
            except TokenExpiredError:
                return self._refuse(CLOCK_ERROR)
            except TokenError:
                continue
        return self._refuse("Invalid token: API key not found")

    def _refuse(self, message: str) -> JSONResponse:
        self.refusals.append(message)
        return _error(403, "AuthError", message)

    async def _send_email(self, request: Request) -> Response:
        refused = self.authenticate(request.headers.get("authorization"))
        if refused is not None:
            return refused
        try:
            data = await request.json()
        except ValueError:
            return _error(400, "BadRequestError", "Invalid JSON supplied in POST data")
        problem = self._invalid(data)
        if problem is not None:
            return problem
        notification = self._accept(data)
        return JSONResponse(_created(notification, request), status_code=201)

    def _invalid(self, data: Any) -> JSONResponse | None:
        if not isinstance(data, dict):
            return _error(400, "ValidationError", "Invalid JSON supplied in POST data")
        for name in ("email_address", "template_id"):
            if not isinstance(data.get(name), str):
                return _error(400, "ValidationError", f"{name} is a required property")
        if "@" not in data["email_address"]:
            return _error(400, "ValidationError", "email_address Not a valid email address")
        template = self.templates.get(data["template_id"])
        if template is None:
            return _error(400, "BadRequestError", "Template not found")
        personalisation = data.get("personalisation") or {}
        missing = sorted(template.placeholders() - set(personalisation))
        if missing:
            return _error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        return None

    def _accept(self, data: dict[str, Any]) -> Notification:
        template = self.templates[data["template_id"]]
        personalisation = {k: str(v) for k, v in (data.get("personalisation") or {}).items()}
        subject, body = template.render(personalisation)
        now = datetime.now(UTC).isoformat()
        status = SIMULATED.get(data["email_address"].lower())
        if status is None:
            status = "sending" if self.hold_in_sending else "delivered"
        notification = Notification(
            id=str(uuid.uuid4()),
            email_address=data["email_address"],
            template_id=data["template_id"],
            personalisation=personalisation,
            reference=data.get("reference"),
            subject=subject,
            body=body,
            status=status,
            created_at=now,
            completed_at=None if status == "sending" else now,
        )
        self.notifications[notification.id] = notification
        return notification

    async def _get(self, request: Request) -> Response:
        refused = self.authenticate(request.headers.get("authorization"))
        if refused is not None:
            return refused
        notification_id = request.path_params["notification_id"]
        try:
            uuid.UUID(notification_id)
        except ValueError:
            return _error(400, "ValidationError", "notification_id is not a valid UUID")
        found = self.notifications.get(notification_id)
        if found is None:
            return _error(404, "NoResultFound", "No result found")
        return JSONResponse(_read(found))

    async def _health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _list(self, _: Request) -> Response:
        return JSONResponse([asdict(n) for n in self.notifications.values()])

    async def _set(self, request: Request) -> Response:
        """Move a notification on (`{"status": "delivered"}`), as Notify's callbacks would."""
        found = self.notifications.get(request.path_params["notification_id"])
        if found is None:
            return _error(404, "NoResultFound", "No result found")
        found.status = str((await request.json())["status"])
        found.completed_at = datetime.now(UTC).isoformat()
        return JSONResponse(asdict(found))

    async def _reset(self, _: Request) -> Response:
        self.notifications.clear()
        self.refusals.clear()
        return Response(status_code=204)


def _error(status: int, error: str, message: str) -> JSONResponse:
    body = {"errors": [{"error": error, "message": message}], "status_code": status}
    return JSONResponse(body, status_code=status)


def _created(notification: Notification, request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "id": notification.id,
        "reference": notification.reference,
        "content": {
            "subject": notification.subject,
            "body": notification.body,
            "from_email": "gmirs.connect@notifications.service.gov.uk",
            "one_click_unsubscribe_url": None,
        },
        "uri": f"{base}/v2/notifications/{notification.id}",
        "template": {
            "id": notification.template_id,
            "version": 1,
            "uri": f"{base}/services/templates/{notification.template_id}",
        },
        "scheduled_for": None,
    }


def _read(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "reference": notification.reference,
        "email_address": notification.email_address,
        "phone_number": None,
        "type": "email",
        "status": notification.status,
        "template": {"id": notification.template_id, "version": 1, "uri": ""},
        "body": notification.body,
        "subject": notification.subject,
        "created_at": notification.created_at,
        "created_by_name": None,
        "sent_at": notification.created_at,
        "completed_at": notification.completed_at,
        "one_click_unsubscribe_url": None,
    }


def create_app(
    api_keys: Sequence[str], templates: Mapping[str, Template], *, hold_in_sending: bool = False
) -> Starlette:
    return GovNotify(api_keys, templates, hold_in_sending=hold_in_sending).app


def _template(text: str) -> tuple[str, Template]:
    template_id, _, rest = text.partition("=")
    subject, _, body = rest.partition("|")
    return template_id, Template(subject, body)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_server_arguments(parser)
    parser.add_argument("--api-key", action="append", required=True)
    parser.add_argument("--template", action="append", type=_template, default=[])
    parser.add_argument("--hold-in-sending", action="store_true")
    args = parser.parse_args(argv)
    app = create_app(args.api_key, dict(args.template), hold_in_sending=args.hold_in_sending)
    serve(app, port=args.port, max_lifetime_s=args.max_lifetime_s)


if __name__ == "__main__":
    main()
