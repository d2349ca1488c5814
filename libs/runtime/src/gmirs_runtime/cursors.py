"""Opaque cursors for keyset paging newest first: a position `(moment, id)` bound to its query.

A cursor is base64url of `[1, moment, id, scope]`, where `scope` is a digest of the filters the
page was asked with: a cursor used with other filters, edited, truncated or made up is refused
with a 422 problem naming the `cursor` parameter, never a 500. It carries no secret and needs
none: the position only says where to resume inside the caller's own scope, which the server
applies on every page (an edited position can only skip within what the caller may see).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime

import orjson
from fastapi import Query

from gmirs_runtime.problems import Problem

VERSION = 1
MAX_CURSOR_LENGTH = 200

CursorQuery = Query(
    min_length=1,
    max_length=MAX_CURSOR_LENGTH,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="The `next_cursor` of the previous page (the same filters must be given).",
)


def scope_of(filters: Mapping[str, object]) -> str:
    """A short digest of a query's filters (None values left out), which a cursor must match."""
    given = {k: str(v) for k, v in sorted(filters.items()) if v is not None}
    return hashlib.sha256(orjson.dumps(given)).hexdigest()[:16]


def encode_cursor(moment: datetime, row_id: uuid.UUID, scope: str) -> str:
    payload = orjson.dumps([VERSION, moment.isoformat(), str(row_id), scope])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_cursor(cursor: str, scope: str) -> tuple[datetime, uuid.UUID]:
    """The position in `cursor`, or a 422 problem if it is not one this query gave out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, moment, row_id, cursor_scope = orjson.loads(raw)
        position = (datetime.fromisoformat(moment), uuid.UUID(row_id))
    except (binascii.Error, ValueError, TypeError, AttributeError, orjson.JSONDecodeError):
        raise _refused("is not a cursor this API gave out") from None
    if version != VERSION or position[0].tzinfo is None:
        raise _refused("is not a cursor this API gave out")
    if cursor_scope != scope:
        raise _refused("was given for other filters; start again from the first page")
    return position


def _refused(why: str) -> Problem:
    message = f"The cursor {why}."
    return Problem(422, detail=message, errors=[{"field": "query.cursor", "message": message}])
