"""The one way a service builds its FastAPI app, so every API behaves the same.

Every app gets problem-detail errors, a server span per request that continues the caller's
trace, public liveness/readiness probes, and operation ids equal to the route function names.
Spans carry the method, the route template and the status: never the raw path, query or body,
which may contain personal data (hence our own middleware instead of FastAPI's native spans).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode, TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gmirs_runtime.auth import TokenValidator
from gmirs_runtime.problems import install_problem_handlers, problem_response, problem_responses
from gmirs_runtime.settings import ServiceSettings

# FastAPI's built-in request spans record `url.path` and `url.query`, and its OTel logs carry
# exception messages: both can hold personal data. Our TracingMiddleware replaces the spans; the
# built-in HTTP metrics (method, route, status only) stay on.
NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "operation_spans": False,
    "logs": False,
    "metrics": True,
    "auto_configure": False,
}

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
    description: str = "",
) -> FastAPI:
    """Build a service API; `tracer_provider` defaults to the global one (tests may inject)."""
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
    install_problem_handlers(app)
    app.add_middleware(TracingMiddleware, tracer_provider=tracer_provider)
    app.include_router(_probes(readiness))
    for router in routers:
        app.include_router(router)
    return app


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation id = the route function's name (duplicates are a naming bug)."""
    return route.name


class TracingMiddleware:
    """Opens a SERVER span per HTTP request, parented to the incoming W3C traceparent."""

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider | None = None) -> None:
        self.app = app
        self.tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope["method"])
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = propagate.extract(carrier)
        with self.tracer.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": str(scope["scheme"])},
        ) as span:
            status: list[int] = []

            async def send_recording(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.append(int(message["status"]))
                    span.set_attribute("http.response.status_code", status[0])
                await send(message)

            try:
                await self.app(scope, receive, send_recording)
            finally:
                template = route_template(scope)
                if template is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                if status and status[0] >= 500:
                    span.set_status(StatusCode.ERROR)


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
