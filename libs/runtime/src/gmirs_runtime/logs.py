"""One-line JSON logs on stderr, stamped with the current trace, safe for personal data.

Only allow-listed `extra` keys are written: a call such as `log.info("...", extra={"email": ...})`
drops the value instead of leaking it. Exceptions are logged as their class and stack frames
(file, line, function) without the message, since messages often quote the data that failed.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from opentelemetry import trace

ALLOWED_EXTRA_KEYS: frozenset[str] = frozenset(
    {
        "event_id",
        "delivery_id",
        "subscription_id",
        "event_type",
        "topic",
        "partition",
        "offset",
        "aggregate_id",
        "consumer_group",
        "status",
        "duration_ms",
        "error_class",
        "worker",
        "attempt",
        "count",
        "method",
        "route",
        "status_code",
        "client_id",
        "port",
    }
)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

# Access lines carry URLs and query strings (which may hold identifiers); spans already record
# method, route and status, so these loggers speak only of problems.
_QUIET_LOGGERS = {
    "uvicorn.access": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiobotocore": logging.WARNING,
    "botocore": logging.WARNING,
}
_ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line with allow-listed extras only."""

    def __init__(self, service_name: str, allowed_keys: Iterable[str] = ALLOWED_EXTRA_KEYS) -> None:
        super().__init__()
        self.service_name = service_name
        self.allowed_keys = frozenset(allowed_keys)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service_name,
        }
        entry.update(_trace_fields())
        for key, value in vars(record).items():
            if key in self.allowed_keys and key not in _STANDARD_ATTRS:
                entry[key] = _plain(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_class"] = record.exc_info[0].__name__
            entry["stack"] = _frames(record.exc_info[2])
        return orjson.dumps(entry).decode()


def configure_logging(
    service_name: str,
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
    extra_keys: Iterable[str] = (),
) -> logging.Handler:
    """Route all logging (uvicorn's too) to one JSON handler; call once from a process's main.

    `extra_keys` widens the allow-list for a service's own non-personal fields.
    Returns the installed handler so a caller (or a test) can remove it again.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(service_name, ALLOWED_EXTRA_KEYS | frozenset(extra_keys)))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _ROUTED_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name, quiet_level in _QUIET_LOGGERS.items():
        # Request spans already record method, route and status; access lines would add URLs
        # with query strings, which may carry personal data.
        logging.getLogger(name).setLevel(quiet_level)
    return handler


def _trace_fields() -> dict[str, str]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
    }


def _frames(tb: Any) -> list[str]:
    return [
        f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)
    ]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
