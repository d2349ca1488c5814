"""JSON bodies for hot read paths, serialised by orjson from rows that are already typed.

A caseload page of 50 summaries cost more to turn into response models and back (pydantic's
`model_construct` per row, then FastAPI's validation and serialisation of the whole page) than
its query did. Rows read from typed columns need no re-check: orjson writes UUIDs and datetimes
itself, and `OPT_UTC_Z` writes a UTC time with `Z`, exactly as pydantic does, so the body is the
one the route's declared `response_model` documents (a test compares the two).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Response

_OPTIONS = orjson.OPT_UTC_Z


def _other(value: Any) -> str:
    """asyncpg's own UUID class (orjson knows only the standard one exactly)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(content: Mapping[str, Any]) -> bytes:
    return orjson.dumps(content, default=_other, option=_OPTIONS)


def json_response(content: Mapping[str, Any], status_code: int = 200) -> Response:
    """`content` as an application/json response, with no model in between."""
    return Response(json_bytes(content), status_code=status_code, media_type="application/json")
