"""An app built with create_app: auth, problem details, probes, tracing and the OpenAPI document."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, get_args

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.utils import get_dependant
from fastapi.security.base import SecurityBase
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from gmirs_runtime.auth import (
    CurrentPrincipal,
    Principal,
    TokenValidator,
    authenticated_router,
    principal_of,
    require_roles,
)
from gmirs_runtime.http import create_app
from gmirs_runtime.logs import configure_logging
from gmirs_runtime.problems import PROBLEM_MEDIA_TYPE, Problem, problem_type

from .conftest import GetToken

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


class Owner(BaseModel):
    email: str
    age: int


class NewItem(BaseModel):
    name: str
    quantity: int
    owner: Owner


def _routers() -> list[APIRouter]:
    api = authenticated_router(prefix="/items", tags=["items"])

    @api.get("/{item_id}")
    async def get_item(
        item_id: str, principal: Annotated[Principal, Depends(require_roles("reader"))]
    ) -> dict[str, str]:
        return {"item_id": item_id, "client_id": principal.client_id}

    @api.post("", status_code=201, dependencies=[Depends(require_roles("writer"))])
    async def create_item(item: NewItem, principal: CurrentPrincipal) -> dict[str, str]:
        return {"name": item.name, "client_id": principal.client_id}

    @api.get("/special/boom")
    async def explode() -> None:
        raise RuntimeError("jane.doe@example.org caused this")

    @api.get("/special/database-down")
    async def database_down() -> None:
        raise ConnectionRefusedError("connect to 10.0.0.5:5432 failed for jane.doe")

    @api.get("/special/teapot")
    async def teapot() -> None:
        raise Problem(418, detail="Short and stout.", type=problem_type("teapot"), spout="left")

    writers = authenticated_router(prefix="/ledger", tags=["ledger"], roles=("writer",))

    @writers.get("")
    async def ledger(request: Request) -> dict[str, str]:
        return {"client_id": principal_of(request).client_id}

    return [api, writers]


@pytest.fixture
def span_exporter_local() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def app(
    validator: TokenValidator,
    span_exporter_local: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> FastAPI:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter_local))
    return create_app(
        title="Items",
        version="1.0.0",
        settings=None,
        routers=_routers(),
        token_validator=validator,
        tracer_provider=provider,
        meter_provider=MeterProvider(metric_readers=[metric_reader]),
    )


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def bearer(get_token: GetToken) -> Callable[[str], Any]:
    async def headers(client_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await get_token(client_id)}"}

    return headers


def _assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    return body


async def test_request_without_a_token_is_a_401_problem(api: httpx.AsyncClient) -> None:
    response = await api.get("/items/a1")

    _assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_request_with_an_invalid_token_is_a_401_problem(api: httpx.AsyncClient) -> None:
    response = await api.get("/items/a1", headers={"Authorization": "Bearer abc.def.ghi"})

    _assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_role_that_does_not_fit_is_a_403_problem(
    api: httpx.AsyncClient, bearer: Callable[[str], Any]
) -> None:
    response = await api.post(
        "/items",
        json={"name": "n", "quantity": 1, "owner": {"email": "e", "age": 1}},
        headers=await bearer("reader-client"),
    )

    _assert_problem(response, 403)


async def test_a_tenant_role_without_tenant_is_a_403_problem(
    api: httpx.AsyncClient, bearer: Callable[[str], Any]
) -> None:
    response = await api.get("/items/a1", headers=await bearer("teamless-member"))

    _assert_problem(response, 403)


async def test_the_right_role_gets_through(
    api: httpx.AsyncClient, bearer: Callable[[str], Any]
) -> None:
    read = await api.get("/items/a1", headers=await bearer("reader-client"))
    write = await api.post(
        "/items",
        json={"name": "widget", "quantity": 2, "owner": {"email": "e@x", "age": 30}},
        headers=await bearer("writer-client"),
    )

    assert read.status_code == 200
    assert read.json() == {"item_id": "a1", "client_id": "reader-client"}
    assert write.status_code == 201
    assert write.json() == {"name": "widget", "client_id": "writer-client"}


async def test_a_router_with_roles_checks_them_for_every_route(
    api: httpx.AsyncClient, bearer: Callable[[str], Any]
) -> None:
    anonymous = await api.get("/ledger")
    reader = await api.get("/ledger", headers=await bearer("reader-client"))
    writer = await api.get("/ledger", headers=await bearer("writer-client"))

    _assert_problem(anonymous, 401)
    _assert_problem(reader, 403)
    assert writer.status_code == 200
    assert writer.json() == {"client_id": "writer-client"}


async def test_validation_errors_name_fields_but_never_echo_values(
    api: httpx.AsyncClient, bearer: Callable[[str], Any]
) -> None:
    response = await api.post(
        "/items",
        json={"name": "widget", "quantity": "lots-of-PERSONAL-9", "owner": {"age": "AB123456C"}},
        headers=await bearer("writer-client"),
    )

    body = _assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"body.quantity", "body.owner.email", "body.owner.age"}
    assert all(error["message"] for error in body["errors"])
    assert "PERSONAL" not in response.text
    assert "AB123456C" not in response.text


async def test_an_unhandled_error_is_a_generic_500_logged_by_class_only(
    api: httpx.AsyncClient,
    bearer: Callable[[str], Any],
    span_exporter_local: InMemorySpanExporter,
    restore_logging: None,
) -> None:
    stream = io.StringIO()
    configure_logging("items", stream=stream)

    response = await api.get("/items/special/boom", headers=await bearer("reader-client"))

    body = _assert_problem(response, 500)
    assert "jane.doe" not in response.text
    assert "RuntimeError" not in response.text
    assert body["detail"] == "An unexpected error occurred."
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    errors = [line for line in lines if line["message"] == "unhandled error"]
    assert errors[0]["error_class"] == "RuntimeError"
    assert "jane.doe" not in stream.getvalue()
    (span,) = span_exporter_local.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "RuntimeError"
    assert span.attributes["http.response.status_code"] == 500


async def test_an_unavailable_database_is_a_503_worth_retrying(
    api: httpx.AsyncClient, bearer: Callable[[str], Any], restore_logging: None
) -> None:
    response = await api.get("/items/special/database-down", headers=await bearer("reader-client"))

    body = _assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "try again" in body["detail"]
    assert "jane.doe" not in response.text
    assert "5432" not in response.text


async def test_http_errors_and_raised_problems_are_problem_documents(
    api: httpx.AsyncClient, bearer: Callable[[str], Any]
) -> None:
    missing = await api.get("/no/such/path")
    teapot = await api.get("/items/special/teapot", headers=await bearer("reader-client"))
    wrong_method = await api.delete("/health")

    _assert_problem(missing, 404)
    _assert_problem(wrong_method, 405)
    body = _assert_problem(teapot, 418)
    assert body["type"] == "/problems/teapot"
    assert body["detail"] == "Short and stout."
    assert body["spout"] == "left"


async def test_health_is_public(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reflects_the_check(validator: TokenValidator) -> None:
    ready = {"value": False}

    async def check() -> bool:
        return ready["value"]

    app = create_app(
        title="t",
        version="1",
        settings=None,
        routers=[],
        token_validator=validator,
        readiness=check,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        not_ready = await client.get("/ready")
        ready["value"] = True
        now_ready = await client.get("/ready")

    _assert_problem(not_ready, 503)
    assert now_ready.status_code == 200
    assert now_ready.json() == {"status": "ready"}


async def test_server_span_continues_the_incoming_trace(
    api: httpx.AsyncClient,
    bearer: Callable[[str], Any],
    span_exporter_local: InMemorySpanExporter,
) -> None:
    headers = {
        **await bearer("reader-client"),
        "traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01",
    }

    response = await api.get("/items/secret-id-42?email=someone@example.org", headers=headers)

    assert response.status_code == 200
    (span,) = span_exporter_local.get_finished_spans()
    assert span.kind == SpanKind.SERVER
    assert span.name == "GET /items/{item_id}"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_SPAN_ID
    attributes = dict(span.attributes or {})
    assert attributes["http.route"] == "/items/{item_id}"
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    flat = json.dumps(attributes)
    assert "secret-id-42" not in flat
    assert "someone@example.org" not in flat


async def test_request_durations_are_measured_by_route_and_status_only(
    api: httpx.AsyncClient, bearer: Callable[[str], Any], metric_reader: InMemoryMetricReader
) -> None:
    headers = await bearer("reader-client")
    await api.get("/items/secret-id-42?email=someone@example.org", headers=headers)
    await api.get("/items/secret-id-43", headers=headers)
    await api.get("/items/secret-id-44")  # no token: 401

    data = metric_reader.get_metrics_data()
    assert data is not None
    (metric,) = [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "http.server.request.duration"
    ]
    points = [point for point in metric.data.data_points if isinstance(point, HistogramDataPoint)]
    counts = {
        (dict(point.attributes or {})["http.response.status_code"], point.count): dict(
            point.attributes or {}
        )
        for point in points
    }
    assert set(counts) == {(200, 2), (401, 1)}
    assert counts[(200, 2)] == {
        "http.request.method": "GET",
        "http.response.status_code": 200,
        "http.route": "/items/{item_id}",
    }
    assert "secret-id" not in json.dumps(list(counts.values()))


async def test_unmatched_requests_are_named_by_method_only(
    api: httpx.AsyncClient, span_exporter_local: InMemorySpanExporter
) -> None:
    await api.get("/no/such/path")

    (span,) = span_exporter_local.get_finished_spans()
    assert span.name == "GET"
    assert "http.route" not in (span.attributes or {})


def test_openapi_uses_function_names_and_documents_problems(app: FastAPI) -> None:
    document = app.openapi()

    get_item = document["paths"]["/items/{item_id}"]["get"]
    create_item = document["paths"]["/items"]["post"]
    assert get_item["operationId"] == "get_item"
    assert create_item["operationId"] == "create_item"
    assert document["paths"]["/health"]["get"]["operationId"] == "health"
    schemas = document["components"]["schemas"]
    assert {"ProblemDetail", "ValidationProblemDetail", "FieldError"} <= schemas.keys()
    assert "HTTPValidationError" not in schemas
    validation = create_item["responses"]["422"]["content"][PROBLEM_MEDIA_TYPE]["schema"]
    assert validation == {"$ref": "#/components/schemas/ValidationProblemDetail"}
    assert PROBLEM_MEDIA_TYPE in get_item["responses"]["401"]["content"]
    assert PROBLEM_MEDIA_TYPE in get_item["responses"]["403"]["content"]
    assert get_item["security"] == [{"HTTPBearer": []}]
    assert document["paths"]["/ledger"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/health"]["get"]


def test_a_guard_is_one_node_that_is_the_bearer_scheme() -> None:
    """FastAPI solves every node of a route's dependency graph on every request, at a cost
    larger than the check a node wraps: a guard reads the bearer token itself, and is the
    security scheme OpenAPI documents (see the test above)."""
    for guard in (require_roles("writer"), get_args(CurrentPrincipal)[1].dependency):
        dependant = get_dependant(path="/ledger", call=guard)

        assert dependant.dependencies == []
        assert isinstance(guard, SecurityBase)
        assert guard.scheme_name == "HTTPBearer"


async def test_lifespan_wraps_the_service_lifespan(
    make_validator: Callable[..., TokenValidator],
) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("start")
        yield
        events.append("stop")

    validator = make_validator(http=None)
    app = create_app(
        title="t",
        version="1",
        settings=None,
        routers=[],
        token_validator=validator,
        lifespan=lifespan,
    )
    async with app.router.lifespan_context(app):
        events.append("serving")
    assert events == ["start", "serving", "stop"]


async def test_without_an_injected_provider_spans_go_to_the_global_one(
    validator: TokenValidator, span_exporter: InMemorySpanExporter
) -> None:
    app = create_app(title="t", version="1", settings=None, routers=[], token_validator=validator)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        await client.get(
            "/health?email=a@b", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"}
        )

    finished = span_exporter.get_finished_spans()
    spans = [span for span in finished if span.name == "GET /health"]
    assert len(spans) == 1  # FastAPI's native request span (which records url.*) is off
    assert format(spans[0].context.trace_id, "032x") == TRACE_ID
    assert not any(k.startswith("url.path") for s in finished for k in (s.attributes or {}))
