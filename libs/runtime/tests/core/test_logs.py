"""JSON logs: one object per line, trace ids attached, only allow-listed extras."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from gmirs_runtime.logs import configure_logging


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_lines_are_json_with_the_current_trace(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("orders", "DEBUG", stream=stream)
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("work") as span:
        logging.getLogger("orders.worker").info("handled %s events", 3, extra={"event_id": "e-1"})

    (line,) = _lines(stream)
    assert line["message"] == "handled 3 events"
    assert line["level"] == "INFO"
    assert line["logger"] == "orders.worker"
    assert line["service"] == "orders"
    assert line["event_id"] == "e-1"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["time"].endswith("+00:00")


def test_extras_outside_the_allow_list_are_dropped(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("orders", stream=stream)

    logging.getLogger("orders").warning(
        "lookup failed",
        extra={"topic": "t.v1", "offset": 7, "email": "jane@example.org", "full_name": "Jane Doe"},
    )

    (line,) = _lines(stream)
    assert line["topic"] == "t.v1"
    assert line["offset"] == 7
    assert "email" not in line
    assert "full_name" not in line
    assert "jane" not in stream.getvalue().lower()
    assert "trace_id" not in line  # no span is active


def test_services_can_allow_their_own_keys(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("orders", stream=stream, extra_keys={"batch_size"})

    logging.getLogger("orders").info("flushed", extra={"batch_size": 12, "email": "x@y"})

    (line,) = _lines(stream)
    assert line["batch_size"] == 12
    assert "email" not in line


def test_exceptions_are_logged_by_class_and_frames_without_the_message(
    restore_logging: None,
) -> None:
    stream = io.StringIO()
    configure_logging("orders", stream=stream)

    try:
        raise ValueError("date of birth 01/02/1990 is invalid")
    except ValueError:
        logging.getLogger("orders").exception("handler failed")

    (line,) = _lines(stream)
    assert line["error_class"] == "ValueError"
    assert any("test_logs.py" in frame for frame in line["stack"])
    assert "1990" not in stream.getvalue()


def test_uvicorn_access_lines_are_suppressed_and_errors_are_json(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("orders", stream=stream)

    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /items?email=a@b HTTP/1.1" 200')
    logging.getLogger("uvicorn.error").error("server problem")

    (line,) = _lines(stream)
    assert line["logger"] == "uvicorn.error"
    assert "a@b" not in stream.getvalue()


def test_configuring_twice_keeps_a_single_handler(restore_logging: None) -> None:
    first = io.StringIO()
    second = io.StringIO()
    configure_logging("orders", stream=first)
    configure_logging("orders", stream=second)

    logging.getLogger("orders").info("once")

    assert first.getvalue() == ""
    assert len(_lines(second)) == 1
