"""OpenTelemetry wiring: one tracer and meter provider per process, W3C propagation helpers.

Export goes over OTLP/HTTP only when the standard OTEL_EXPORTER_OTLP_* variables name a
collector, so local runs and tests never try to reach one. The global provider can be set only
once per process; later calls reuse it and just attach what they bring (e.g. a test exporter).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_TRACES_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_METRICS_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")


@dataclass
class _State:
    """What this process already attached to the global provider (so setup is idempotent)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    exporters: list[SpanExporter] = field(default_factory=list)
    otlp_attached: bool = False


_state = _State()
_W3C = TraceContextTextMapPropagator()


def setup_telemetry(service_name: str, *, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install (or reuse) the global SDK tracer and meter providers; idempotent per process."""
    with _state.lock:
        provider = _global_tracer_provider(service_name)
        if exporter is not None and not any(e is exporter for e in _state.exporters):
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            _state.exporters.append(exporter)
        if not _state.otlp_attached:
            processor = otlp_span_processor()
            if processor is not None:
                provider.add_span_processor(processor)
            _state.otlp_attached = True
        _install_meter_provider(provider.resource)
        return provider


def shutdown_telemetry(timeout_millis: int = 5000) -> None:
    """Flush pending spans and metrics before the process exits.

    The providers stay usable (the SDK shuts them down itself at exit), so a test session or a
    process that restarts its app in-process keeps tracing.
    """
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(timeout_millis)
    meter_provider = metrics.get_meter_provider()
    if isinstance(meter_provider, MeterProvider):
        meter_provider.force_flush(timeout_millis)


def otlp_span_processor() -> SpanProcessor | None:
    """A batching OTLP/HTTP span processor if an OTLP endpoint is configured, else None."""
    if not _configured(_TRACES_ENDPOINT_VARS):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter())


def otlp_metric_reader() -> MetricReader | None:
    """A periodic OTLP/HTTP metric reader if an OTLP endpoint is configured, else None."""
    if not _configured(_METRICS_ENDPOINT_VARS):
        return None
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return PeriodicExportingMetricReader(OTLPMetricExporter())


def current_traceparent(context: Context | None = None) -> tuple[str | None, str | None]:
    """The W3C (traceparent, tracestate) of `context` (default: the current span), for storing
    beside an outbox row."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=context)
    return carrier.get("traceparent"), carrier.get("tracestate") or None


def context_from_traceparent(traceparent: str | None, tracestate: str | None) -> Context:
    """A context whose remote parent is the given W3C trace (empty context if none/invalid)."""
    carrier: dict[str, str] = {}
    if traceparent:
        carrier["traceparent"] = traceparent
    if tracestate:
        carrier["tracestate"] = tracestate
    return _W3C.extract(carrier, context=Context())


def inject_http_headers(headers: dict[str, str]) -> None:
    """Add the current trace (and baggage) to outbound HTTP headers, via the global propagator."""
    propagate.inject(headers)


def _global_tracer_provider(service_name: str) -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    trace.set_tracer_provider(provider)
    current = trace.get_tracer_provider()
    # Another thread (or an earlier non-SDK provider) may have won the one-time set.
    return current if isinstance(current, TracerProvider) else provider


def _install_meter_provider(resource: Resource) -> None:
    if isinstance(metrics.get_meter_provider(), MeterProvider):
        return
    reader = otlp_metric_reader()
    metrics.set_meter_provider(
        MeterProvider(resource=resource, metric_readers=[reader] if reader else [])
    )


def _configured(names: tuple[str, ...]) -> bool:
    return any(os.environ.get(name, "").strip() for name in names)
