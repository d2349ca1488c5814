"""The fake collector returns exactly the spans a real OTLP exporter sent it."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, format_span_id, format_trace_id

from tests.fakes.otlp_collector import OtlpCollector, create_app
from tests.fakes.process import RunningFake, run_fake

MODULE = "tests.fakes.otlp_collector"


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningFake]:
    with run_fake(MODULE) as running:
        yield running


@pytest.fixture
def client(fake: RunningFake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, timeout=10.0) as http:
        http.post("/_control/reset").raise_for_status()
        yield http


def provider_for(
    fake: RunningFake, service: str, compression: Compression = Compression.NoCompression
) -> TracerProvider:
    """A private provider (never the global one) exporting each span as it ends."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), shutdown_on_exit=False
    )
    exporter = OTLPSpanExporter(endpoint=f"{fake.base_url}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def spans(client: httpx.Client, trace_id: str | None = None) -> list[dict[str, Any]]:
    params = {} if trace_id is None else {"trace_id": trace_id}
    result: list[dict[str, Any]] = client.get("/_control/spans", params=params).json()
    return result


def test_exported_spans_keep_trace_parent_and_service(
    fake: RunningFake, client: httpx.Client
) -> None:
    provider = provider_for(fake, "gmirs-test")
    tracer = provider.get_tracer("fake-tests")
    with (
        tracer.start_as_current_span("POST /referrals", kind=SpanKind.SERVER) as parent,
        tracer.start_as_current_span(
            "send referral.events", kind=SpanKind.PRODUCER, attributes={"messaging.system": "kafka"}
        ) as child,
    ):
        pass
    provider.shutdown()
    trace_id = format_trace_id(parent.get_span_context().trace_id)

    by_name = {span["name"]: span for span in spans(client, trace_id)}

    assert set(by_name) == {"POST /referrals", "send referral.events"}
    server, producer = by_name["POST /referrals"], by_name["send referral.events"]
    assert server["parent_span_id"] is None
    assert producer["span_id"] == format_span_id(child.get_span_context().span_id)
    assert producer["parent_span_id"] == format_span_id(parent.get_span_context().span_id)
    assert (server["kind"], producer["kind"]) == ("SERVER", "PRODUCER")
    assert {server["service_name"], producer["service_name"]} == {"gmirs-test"}
    assert producer["attributes"]["messaging.system"] == "kafka"


def test_trace_filter_and_links_across_services(fake: RunningFake, client: httpx.Client) -> None:
    producer_side = provider_for(fake, "producer-svc", Compression.Gzip)
    consumer_side = provider_for(fake, "consumer-svc")
    with producer_side.get_tracer("p").start_as_current_span("send t") as sent:
        pass
    link = Link(sent.get_span_context())
    with consumer_side.get_tracer("c").start_as_current_span("process t", links=[link]) as done:
        pass
    producer_side.shutdown()
    consumer_side.shutdown()

    [processed] = spans(client, format_trace_id(done.get_span_context().trace_id))

    assert processed["service_name"] == "consumer-svc"
    assert processed["links"][0]["trace_id"] == format_trace_id(sent.get_span_context().trace_id)
    assert processed["links"][0]["span_id"] == format_span_id(sent.get_span_context().span_id)
    assert len(spans(client)) == 2


def test_otlp_json_with_hex_ids(client: httpx.Client) -> None:
    trace_id, span_id, parent_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "ab" * 8
    span = {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent_id,
        "name": "json span",
        "kind": 3,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "attributes": [{"key": "retries", "value": {"intValue": "2"}}],
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]}
    export = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}

    response = client.post("/v1/traces", json=export)

    assert response.status_code == 200
    [stored] = spans(client, trace_id.upper())
    assert (stored["span_id"], stored["parent_span_id"]) == (span_id, parent_id)
    assert (stored["kind"], stored["service_name"]) == ("CLIENT", "json-svc")
    assert stored["attributes"] == {"retries": 2}
    assert stored["end_time_unix_nano"] == 1544712661000000000


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/x-protobuf", b"\xff\xff\xff", 400),
        ("application/json", b"{not json", 400),
        ("text/plain", b"hello", 415),
    ],
)
def test_malformed_exports_are_refused(
    client: httpx.Client, content_type: str, body: bytes, status: int
) -> None:
    response = client.post("/v1/traces", content=body, headers={"content-type": content_type})

    assert response.status_code == status
    assert spans(client) == []


@pytest.mark.parametrize("path", ["/v1/metrics", "/v1/logs"])
def test_metrics_and_logs_are_accepted_and_dropped(client: httpx.Client, path: str) -> None:
    body = gzip.compress(b"")
    headers = {"content-type": "application/x-protobuf", "content-encoding": "gzip"}

    assert client.post(path, content=body, headers=headers).status_code == 200
    assert spans(client) == []


async def test_in_process_app_stores_spans_on_its_state() -> None:
    app = create_app()
    collector: OtlpCollector = app.state.collector
    export = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "01" * 16, "name": "x"}]}]}]}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://collector"
    ) as http:
        response = await http.post("/v1/traces", json=export)

    assert response.status_code == 200
    assert [span["name"] for span in collector.spans_in_trace("01" * 16)] == ["x"]
