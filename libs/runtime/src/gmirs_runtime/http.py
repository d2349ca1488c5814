"""The one way a service builds its FastAPI app, so every API behaves the same.

Every app gets problem-detail errors, a request body limit and input guard (see request_guard), a server span (continuing the caller's trace) and a duration
measurement per request, public liveness/readiness probes, and operation ids equal to the route
function names. Spans and metrics carry the method, the route template and the status: never the
raw path, query or body, which may contain personal data (hence our own middleware instead of
FastAPI's native telemetry).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import SpanKind, StatusCode, TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gmirs_runtime.auth import TokenValidator
from gmirs_runtime.problems import install_problem_handlers, problem_response, problem_responses
from gmirs_runtime.request_guard import DEFAULT_MAX_BODY_BYTES, RequestGuardMiddleware
from gmirs_runtime.settings import ServiceSettings

# FastAPI's built-in request spans record `url.path` and `url.query`, and its OTel logs carry
# exception messages: both can hold personal data. Our TelemetryMiddleware replaces them, and
# records the HTTP duration metric itself (method, route, status only) in the same pass.
NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "operation_spans": False,
    "logs": False,
    "metrics": False,
    "auto_configure": False,
}
# Only these headers can carry a trace; reading no others keeps the request's data out of reach.
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]
ReadinessCheck = Callable[[], Awaitable[bool]]


def create_app(
    *,
    title: str,
    version: str,
    settings: ServiceSettings | None,
    routers: Sequence[APIRouter],
    token_validator: TokenValidator | None,
    lifespan: Lifespan | None = None,
    readiness: ReadinessCheck | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    description: str = "",
) -> FastAPI:
    """Build a service API; the tracer and meter providers default to the global ones."""
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=_lifespan(lifespan, token_validator),
        generate_unique_id_function=operation_id,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        telemetry=NATIVE_TELEMETRY,
    )
    app.state.settings = settings
    app.state.token_validator = token_validator
    max_body_bytes = settings.http_max_body_bytes if settings else DEFAULT_MAX_BODY_BYTES
    install_problem_handlers(app)
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(
        TelemetryMiddleware, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    app.include_router(_probes(readiness))
    for router in routers:
        app.include_router(router)
    return app


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation id = the route function's name (duplicates are a naming bug)."""
    return route.name


class TelemetryMiddleware:
    """Per HTTP request: a SERVER span parented to the incoming W3C traceparent, and its duration."""

    def __init__(
        self,
        app: ASGIApp,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.app = app
        self.tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self.duration = metrics.get_meter(__name__, meter_provider=meter_provider).create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = str(scope["method"])
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _TRACE_HEADERS
        }
        parent = propagate.extract(carrier) if carrier else None
        status = 500  # unless a response starts
        with self.tracer.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": str(scope["scheme"])},
        ) as span:

            async def send_recording(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                await send(message)

            try:
                await self.app(scope, receive, send_recording)
            finally:
                template = route_template(scope)
                if template is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
                attributes: dict[str, str | int] = {
                    "http.request.method": method,
                    "http.response.status_code": status,
                }
                if template is not None:
                    attributes["http.route"] = template
                self.duration.record(time.perf_counter() - started, attributes)


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (e.g. `/items/{item_id}`), known after routing."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def _probes(readiness: ReadinessCheck | None) -> APIRouter:
    router = APIRouter(tags=["probes"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: the process is serving requests."""
        return {"status": "ok"}

    @router.get("/ready", responses=problem_responses(503))
    async def ready() -> JSONResponse:
        """Readiness: the service's dependencies answer (503 problem if not)."""
        if readiness is not None and not await readiness():
            return problem_response(503, detail="The service is not ready.")
        return JSONResponse({"status": "ready"})

    return router


def _lifespan(
    inner: Lifespan | None, token_validator: TokenValidator | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[Any]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        try:
            if inner is None:
                yield None
            else:
                async with inner(app) as state:
                    yield state
        finally:
            if token_validator is not None:
                await token_validator.aclose()

    return lifespan
