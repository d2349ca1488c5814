"""How the consumer classifies failures, and how it describes them without personal data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from gmirs_runtime.eventing.envelope import MalformedEvent

MAX_MESSAGE = 400
T = TypeVar("T")


class UnprocessableEvent(Exception):
    """Raised by a handler when retrying cannot help (the event itself is unusable).

    The message must not contain personal data: it travels in dead-letter headers.
    """


class EventTooLargeError(UnprocessableEvent):
    """An event larger than the producer may send: it could never be published, so it is never
    committed (an HTTP request gets a 413 problem, a consumed event is dead-lettered)."""

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"event {event_type} would be {size} bytes on the broker; the limit is {limit}"
        )


def is_infrastructure_failure(exc: BaseException) -> bool:
    """True for failures of the database or network rather than of the event: wait, never dead-letter."""
    if isinstance(exc, OSError | asyncio.TimeoutError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def describe_error(exc: BaseException) -> str:
    """A reason safe to store in headers and logs: locations and error kinds, never input values."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}"
            for err in exc.errors(include_input=False, include_url=False)
        ]
        text = f"{exc.error_count()} validation error(s): " + "; ".join(parts)
    elif isinstance(exc, UnprocessableEvent | MalformedEvent):
        text = str(exc)
    else:
        # Arbitrary exception text can echo data; keep only the class for unknown errors.
        text = f"{type(exc).__name__} while handling the event"
    return text[:MAX_MESSAGE]


def parse_data(parse: Callable[[Any], T], data: Any) -> T:
    """Validate event data; invalid data is unprocessable (dead-lettered at once, not retried)."""
    try:
        return parse(data)
    except ValidationError as exc:
        raise UnprocessableEvent(describe_error(exc)) from None
