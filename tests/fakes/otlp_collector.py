"""A minimal OTLP/HTTP receiver, so end-to-end tests can assert on the traces services export.

No usable collector or trace backend runs here without Docker, and the assertion we need is narrow:
did a trace cross process boundaries with the right parents and service names. Traces are kept in
memory; metrics and logs are accepted and dropped so exporters for them do not fail.

Run: ``python -m tests.fakes.otlp_collector --port P``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes._otlp_decode import (
    PROTOBUF,
    MalformedExportError,
    UnsupportedMediaTypeError,
    decompress,
    media_type,
    parse_request,
    spans_from_request,
)
from tests.fakes._serve import add_server_arguments, serve


class OtlpCollector:
    """Received spans, in arrival order, and the app that receives them."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/v1/traces", self._traces, methods=["POST"]),
                Route("/v1/metrics", self._discard, methods=["POST"]),
                Route("/v1/logs", self._discard, methods=["POST"]),
                Route("/_control/health", self._health, methods=["GET"]),
                Route("/_control/spans", self._list_spans, methods=["GET"]),
                Route("/_control/reset", self._reset, methods=["POST"]),
            ]
        )
        self.app.state.collector = self

    def spans_in_trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Spans whose trace id (hex, any case) matches."""
        wanted = trace_id.lower()
        return [span for span in self.spans if span["trace_id"] == wanted]

    async def _traces(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        try:
            body = decompress(await request.body(), request.headers.get("content-encoding"))
            export = parse_request(body, content_type)
        except UnsupportedMediaTypeError as exc:
            return JSONResponse({"error": str(exc)}, status_code=415)
        except MalformedExportError as exc:
            return JSONResponse({"error": f"malformed export: {exc}"}, status_code=400)
        self.spans.extend(spans_from_request(export))
        return _empty_response(content_type)

    async def _discard(self, request: Request) -> Response:
        await request.body()
        return _empty_response(request.headers.get("content-type", ""))

    async def _health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _list_spans(self, request: Request) -> Response:
        trace_id = request.query_params.get("trace_id")
        return JSONResponse(self.spans if trace_id is None else self.spans_in_trace(trace_id))

    async def _reset(self, _: Request) -> Response:
        self.spans.clear()
        return JSONResponse({"status": "reset"})


def _empty_response(content_type: str) -> Response:
    """An empty Export*ServiceResponse in the caller's encoding (all three are empty messages)."""
    if media_type(content_type) == PROTOBUF:
        payload: bytes = ExportTraceServiceResponse().SerializeToString()
        return Response(payload, media_type=PROTOBUF)
    return JSONResponse({})


def create_app() -> Starlette:
    """Build the collector's app; its state is `app.state.collector` (an `OtlpCollector`)."""
    return OtlpCollector().app


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: parse options and serve until stopped."""
    parser = argparse.ArgumentParser(description="Minimal OTLP/HTTP trace receiver for tests.")
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    serve(create_app(), port=args.port, max_lifetime_s=args.max_lifetime_s)


if __name__ == "__main__":
    main()
