"""RFC 9457 problem details for every error an API returns, including ones nobody planned for.

Validation errors name the fields that failed and why, never the submitted values (they may be
personal data). Unhandled exceptions become a generic 500 (a 503 with Retry-After when the
database or the network failed, so clients know a retry may pass) whose log line carries only
the exception class; the span is marked failed so the trace shows where it happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.trace import StatusCode
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gmirs_runtime.eventing.errors import is_infrastructure_failure

PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = "5"
_REF = "#/components/schemas/"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

log = logging.getLogger(__name__)


class ProblemDetail(BaseModel):
    """An RFC 9457 problem details document."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class FieldError(BaseModel):
    """One invalid input: where it is (e.g. `body.owner.email`) and what is wrong with it."""

    field: str
    message: str


class ValidationProblemDetail(ProblemDetail):
    """A problem document listing the request fields that are not valid."""

    errors: list[FieldError]


class Problem(Exception):
    """Raise from a route or dependency to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = status
        self.title = title or _phrase(status)
        self.detail = detail
        self.type = type
        self.headers = dict(headers or {})
        if status == 422 and "errors" not in extra:
            # OpenAPI promises every 422 is a ValidationProblemDetail: say what was refused.
            extra["errors"] = [{"field": "body", "message": detail or self.title}]
        self.extra = extra
        super().__init__(f"{status} {self.title}")

    def response(self) -> JSONResponse:
        """This problem as an HTTP response."""
        return problem_response(
            self.status,
            self.title,
            self.detail,
            type=self.type,
            headers=self.headers,
            extra=self.extra,
        )


def problem_type(slug: str) -> str:
    """A problem type URI reference for this platform, e.g. `/problems/consent-required`."""
    return f"/problems/{slug}"


def problem_response(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    *,
    type: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Build an `application/problem+json` response."""
    body: dict[str, Any] = {"type": type, "title": title or _phrase(status), "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries declaring problem documents for the given statuses in OpenAPI."""
    return {
        status: {
            "description": _phrase(status),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF + "ProblemDetail"}}},
        }
        for status in statuses
    }


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error with a problem document, and describe them in the OpenAPI schema."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Problem, _problem)
    app.add_middleware(UnhandledErrorMiddleware)
    original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_problem_schemas(original_openapi())
        return original_openapi()

    app.openapi = openapi  # type: ignore[method-assign]


def add_problem_schemas(schema: dict[str, Any]) -> None:
    """Add the problem components; every operation may answer a 422 `ValidationProblemDetail`,
    and every one with a body a 400 (unreadable) and a 413 (too large; see request_guard)."""
    _, definitions = models_json_schema(
        [(model, "serialization") for model in (ProblemDetail, ValidationProblemDetail)],
        ref_template=_REF + "{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.update(definitions.get("$defs", {}))
    validation_response = {
        "description": "Validation Error",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF + "ValidationProblemDetail"}}},
    }
    too_large = problem_responses(413)[413]
    bad_body = problem_responses(400)[400]
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            # Any request can be refused as invalid: a NUL in a header or parameter (request_guard).
            responses["422"] = validation_response
            if "requestBody" in operation:
                responses.setdefault("400", bad_body)  # FastAPI: a body that is not UTF-8
                responses["413"] = too_large


class UnhandledErrorMiddleware:
    """Turns an exception nobody handled into a generic 500 problem, without re-raising it.

    (Starlette's own `Exception` handler re-raises after responding, which makes the server log
    the full exception, message included.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except asyncio.CancelledError as exc:
            if _being_cancelled():
                raise  # a real cancellation (shutdown, client gone) must propagate
            # A library's own task was cancelled under us (aiokafka does this): a failure.
            _record_unhandled(exc)
            if started:
                raise
            await _unhandled_response(exc)(scope, receive, send)
        except Exception as exc:
            _record_unhandled(exc)
            if started:
                raise
            await _unhandled_response(exc)(scope, receive, send)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _unhandled_response(exc: BaseException) -> JSONResponse:
    """503 when the database or the network failed (worth retrying shortly), else 500."""
    if isinstance(exc, asyncio.CancelledError) or is_infrastructure_failure(exc):
        return problem_response(
            503,
            detail="A system this API depends on is unavailable; try again shortly.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return problem_response(500, detail="An unexpected error occurred.")


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Field paths and messages only: pydantic's `input` and `ctx` may echo personal data."""
    return [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "Invalid value")),
        }
        for error in exc.errors()
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        422,
        "Unprocessable Content",  # RFC 9110's name; Python 3.11 still says "Entity"
        detail="The request is not valid.",
        extra={"errors": validation_errors(exc)},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == _phrase(exc.status_code):
        detail = None  # Starlette's default detail just repeats the title
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return problem_response(exc.status_code, detail=detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route allows on this path (Starlette's 405 names one route's only)."""
    methods = []
    for method in _METHODS:
        probe: Scope = {
            "type": "http",
            "method": method,
            "path": request.scope.get("path", ""),
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
        }
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return methods


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return exc.response()


def _record_unhandled(exc: BaseException) -> None:
    span = trace.get_current_span()
    span.set_attribute("error.type", type(exc).__name__)
    span.set_status(StatusCode.ERROR)
    log.error("unhandled error", exc_info=exc, extra={"error_class": type(exc).__name__})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
