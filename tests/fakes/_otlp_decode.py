"""Turn an OTLP/HTTP trace export (protobuf or JSON) into plain span dicts that tests can compare.

Ids become lowercase hex, as in W3C `traceparent`, so a test can match a span to a header directly.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import Any

# protobuf ships no type information and types-protobuf is not a dependency.
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class UnsupportedMediaTypeError(ValueError):
    """The request was neither OTLP protobuf nor OTLP JSON."""


class MalformedExportError(ValueError):
    """The body claimed a supported encoding but did not decode."""


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header ("application/json; charset=utf-8" -> ...)."""
    return content_type.split(";", maxsplit=1)[0].strip().lower()


def decompress(body: bytes, encoding: str | None) -> bytes:
    """Undo the Content-Encoding an exporter may apply (gzip or deflate)."""
    if encoding in (None, "", "identity"):
        return body
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise MalformedExportError(f"bad {encoding} body") from exc
    raise UnsupportedMediaTypeError(f"content-encoding {encoding}")


def parse_request(body: bytes, content_type: str) -> Any:
    """Parse the body into an ExportTraceServiceRequest, or raise one of the errors above."""
    kind = media_type(content_type)
    if kind not in (PROTOBUF, JSON):
        raise UnsupportedMediaTypeError(f"content-type {kind or '(none)'}")
    request = ExportTraceServiceRequest()
    try:
        if kind == PROTOBUF:
            request.ParseFromString(body)
        else:
            # OTLP/JSON writes ids as hex; protobuf's JSON mapping expects base64 for bytes.
            document = _hex_ids_to_base64(json.loads(body))
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (ValueError, DecodeError, json_format.Error) as exc:
        raise MalformedExportError(type(exc).__name__) from exc
    return request


def spans_from_request(request: Any) -> list[dict[str, Any]]:
    """Flatten resource -> scope -> span into one dict per span."""
    spans: list[dict[str, Any]] = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name
            for span in scope_spans.spans:
                spans.append(span_to_dict(span, resource, scope_name))
    return spans


def span_to_dict(span: Any, resource: dict[str, Any], scope_name: str) -> dict[str, Any]:
    """One span as a dict; `kind` and `status_code` drop the enum prefix (e.g. "PRODUCER")."""
    return {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() or None,
        "name": span.name,
        "kind": Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        "service_name": resource.get("service.name"),
        "scope_name": scope_name,
        "attributes": attributes(span.attributes),
        "resource_attributes": resource,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "status_code": Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
        "status_message": span.status.message,
        "events": [
            {"name": event.name, "attributes": attributes(event.attributes)}
            for event in span.events
        ],
        "links": [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": attributes(link.attributes),
            }
            for link in span.links
        ],
    }


def attributes(pairs: list[KeyValue]) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs}


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as the Python value an SDK attribute would have held."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def _hex_ids_to_base64(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _hex_to_base64(item) if key in _ID_KEYS else _hex_ids_to_base64(item)
            for key, item in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def _hex_to_base64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return base64.b64encode(bytes.fromhex(value)).decode()
