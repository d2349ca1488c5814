"""Telemetry setup and W3C propagation helpers; OTLP export against a real local HTTP receiver."""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gmirs_runtime.telemetry import (
    context_from_traceparent,
    current_traceparent,
    inject_http_headers,
    otlp_metric_reader,
    otlp_span_processor,
    setup_telemetry,
    shutdown_telemetry,
)

OTLP_VARS = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


@pytest.fixture
def tracer() -> trace.Tracer:
    return TracerProvider().get_tracer("test")


def test_setup_installs_one_global_sdk_provider_and_is_idempotent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in OTLP_VARS:
        monkeypatch.delenv(name, raising=False)
    exporter = InMemorySpanExporter()

    provider = setup_telemetry("demo", exporter=exporter)
    again = setup_telemetry("demo", exporter=exporter)
    with trace.get_tracer("test").start_as_current_span("unit of work"):
        pass
    shutdown_telemetry()

    assert again is provider
    assert trace.get_tracer_provider() is provider
    names = [span.name for span in exporter.get_finished_spans()]
    assert names.count("unit of work") == 1  # attached once despite two setup calls


def test_current_traceparent_reflects_the_active_span(tracer: trace.Tracer) -> None:
    assert current_traceparent() == (None, None)

    with tracer.start_as_current_span("outer") as span:
        traceparent, tracestate = current_traceparent()

    assert traceparent is not None
    assert TRACEPARENT.match(traceparent)
    context = span.get_span_context()
    assert traceparent == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
    )
    assert tracestate is None


def test_context_from_traceparent_continues_the_stored_trace(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("producer"):
        stored = current_traceparent()

    with tracer.start_as_current_span(
        "consumer", context=context_from_traceparent(*stored)
    ) as span:
        resumed = span.get_span_context()

    assert stored[0] is not None
    assert stored[0].split("-")[1] == f"{resumed.trace_id:032x}"


def test_context_from_traceparent_tolerates_missing_or_garbage(tracer: trace.Tracer) -> None:
    for value in (None, "", "not-a-traceparent"):
        with tracer.start_as_current_span("x", context=context_from_traceparent(value, None)) as s:
            assert isinstance(s, ReadableSpan)
            assert s.parent is None  # a fresh root span, no crash


def test_inject_http_headers_adds_the_trace(tracer: trace.Tracer) -> None:
    headers: dict[str, str] = {"accept": "application/json"}

    with tracer.start_as_current_span("call") as span:
        inject_http_headers(headers)

    assert headers["traceparent"].split("-")[1] == f"{span.get_span_context().trace_id:032x}"
    assert headers["accept"] == "application/json"


def test_no_otlp_export_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTLP_VARS:
        monkeypatch.delenv(name, raising=False)

    assert otlp_span_processor() is None
    assert otlp_metric_reader() is None


class _Collector(BaseHTTPRequestHandler):
    received: dict[str, list[bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[tuple[str, dict[str, list[bytes]]]]:
    """A minimal OTLP/HTTP receiver on a loopback port, in a thread."""
    received: dict[str, list[bytes]] = {}
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_otlp_export_when_an_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch, collector: tuple[str, dict[str, list[bytes]]]
) -> None:
    endpoint, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    processor = otlp_span_processor()
    reader = otlp_metric_reader()
    assert processor is not None
    assert reader is not None
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    meter_provider = MeterProvider(metric_readers=[reader])

    with tracer_provider.get_tracer("test").start_as_current_span("exported span"):
        meter_provider.get_meter("test").create_counter("things_done").add(2)
    tracer_provider.shutdown()
    meter_provider.shutdown()

    traces = ExportTraceServiceRequest.FromString(received["/v1/traces"][0])
    span_names = [
        span.name
        for resource in traces.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert span_names == ["exported span"]
    metric_names = {
        metric.name
        for body in received["/v1/metrics"]
        for resource in ExportMetricsServiceRequest.FromString(body).resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert "things_done" in metric_names
