"""Request mechanics every route shares: a body size limit and input PostgreSQL cannot store.

Every request of every service passes these checks once, so no route or schema repeats them:
- a body larger than the limit is a 413, refused on its Content-Length before routing and, for a
  chunked body, as soon as the bytes read pass the limit (never buffering more than the limit);
- a NUL (U+0000) in a path or query parameter, a header, or a JSON string or key is a 422 naming
  where it is (PostgreSQL text cannot hold it, and no honest client sends one);
- a JSON object with the same key twice is a 422 naming the key path (which value would win
  differs between parsers, so the body means different things to different readers);
- a body that is not UTF-8 JSON is left to the route: FastAPI answers 422 (malformed) or 400
  (not UTF-8), both documented on every operation with a body; raw-reading routes keep it.
All of it runs in `RequestGuardMiddleware`, before routing and authentication: a valid request
pays a few byte scans and one JSON parse with a key-counting hook.
Problems name the place, never the value, which may be personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gmirs_runtime.problems import Problem

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_NUL = "\x00"
_ESCAPED_NUL = b"\\u0000"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestGuardMiddleware:
    """Reads a request body at most `max_body_bytes` long and checks a JSON one, before routing.

    The body read is handed on unchanged, so routes see exactly what the client sent.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            refuse_nul_outside_body(scope)
            if scope["method"] not in _BODY_METHODS:
                await self.app(scope, receive, send)
                return
            body = await self._read(scope, receive)
            if body and _is_json(_header(scope, b"content-type")):
                parse_json(body)
        except Problem as problem:
            await problem.response()(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the route sees an empty body and fails as usual
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def too_large(limit: int) -> Problem:
    return Problem(413, detail=f"The request body is larger than {limit} bytes.")


def refuse_nul_outside_body(scope: Scope) -> None:
    """A NUL in the path, the query or a header is a 422 naming it (cheap byte scans first)."""
    if _NUL in scope["path"]:
        raise nul_problem(_path_parameter_with_nul(scope))
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if _NUL in name or _NUL in value:
                raise nul_problem(f"query.{name.replace(_NUL, '')}")
    for raw_name, raw_value in scope["headers"]:
        if b"\x00" in raw_value:
            raise nul_problem(f"header.{raw_name.decode('latin-1')}")


def _path_parameter_with_nul(scope: Scope) -> str:
    """`path.<name>` of the parameter holding the NUL (by the documented path templates)."""
    segments = scope["path"].split("/")
    openapi = getattr(scope.get("app"), "openapi", None)
    templates = openapi().get("paths", {}) if callable(openapi) else {}
    for template in templates:
        parts = template.split("/")
        if len(parts) == len(segments) and all(
            part == segment or _is_parameter(part)
            for part, segment in zip(parts, segments, strict=True)
        ):
            for part, segment in zip(parts, segments, strict=True):
                if _is_parameter(part) and _NUL in segment:
                    return f"path.{part[1:-1]}"
    return "path"


def _is_parameter(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


def _is_json(content_type: str | None) -> bool:
    """The bodies FastAPI reads as JSON: no content type, `application/json` or `+json`."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class _DuplicateKeys(dict[str, Any]):
    """An object whose source named a key more than once (named on the slow, failing path)."""

    duplicates: list[str]


def parse_json(body: bytes) -> Any:
    """Parse a JSON body, refusing duplicate keys and NUL characters with a 422 naming the path
    (None if it is not UTF-8 JSON at all)."""
    duplicated = False

    def to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
        duplicated = True
        marked = _DuplicateKeys(result)
        marked.duplicates = [key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i])]
        return marked

    try:
        parsed = json.loads(body.decode("utf-8"), object_pairs_hook=to_dict)
    except (UnicodeDecodeError, json.JSONDecodeError):
        # Not ours to answer: FastAPI refuses it (a documented 400 or 422), and a route that
        # reads its body raw (intake's R&M events) quarantines it, so nothing is lost.
        return None
    if duplicated or _ESCAPED_NUL in body:
        for problem in _input_problems(parsed, ("body",)):
            raise problem
    return parsed


def _input_problems(value: Any, path: tuple[str, ...]) -> Iterator[Problem]:
    if isinstance(value, str):
        if _NUL in value:
            yield nul_problem(_dotted(path))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _input_problems(item, (*path, str(index)))
    elif isinstance(value, dict):
        for key in value.duplicates if isinstance(value, _DuplicateKeys) else ():
            yield _field_problem(_dotted((*path, key)), "Duplicate key in a JSON object.")
        for key, item in value.items():
            if _NUL in key:
                yield nul_problem(_dotted((*path, "<key>")))
            yield from _input_problems(item, (*path, key))


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(part.replace(_NUL, "") for part in path)


def nul_problem(field: str) -> Problem:
    return _field_problem(field, "NUL characters (U+0000) are not allowed.")


def _field_problem(field: str, message: str) -> Problem:
    return Problem(
        422,
        "Unprocessable Content",
        "The request is not valid.",
        errors=[{"field": field, "message": message}],
    )
