"""Outsider probes of the HTTP input rules every service shares, run against its real routes.

Each service's tests call these on one of its own routes, so a service that loses the shared
guard (a route mounted outside create_app, a body read before it) fails its own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from gmirs_runtime.problems import PROBLEM_MEDIA_TYPE
from gmirs_runtime.request_guard import DEFAULT_MAX_BODY_BYTES

NUL_MESSAGE = "NUL characters (U+0000) are not allowed."
_CHUNK = 64 * 1024


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    return body


async def assert_body_limit(
    http: httpx.AsyncClient, method: str, path: str, limit: int = DEFAULT_MAX_BODY_BYTES
) -> None:
    """A body one byte over the limit is a 413, whether declared or sent in chunks."""
    json = {"content-type": "application/json"}
    declared = await http.request(method, path, content=b" " * (limit + 1), headers=json)
    _problem(declared, 413)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // _CHUNK + 2):
            yield b" " * _CHUNK

    chunked = await http.request(method, path, content=chunks(), headers=json)
    _problem(chunked, 413)


async def assert_nul_refused(
    http: httpx.AsyncClient, method: str, path: str, field: str, **request: Any
) -> None:
    """The request (which carries a NUL) is a 422 naming `field`, without echoing the value."""
    response = await http.request(method, path, **request)
    errors = _problem(response, 422)["errors"]
    assert {"field": field, "message": NUL_MESSAGE} in errors
    assert "\\u0000" not in response.text


async def assert_duplicate_key_refused(
    http: httpx.AsyncClient, method: str, path: str, body: str, field: str
) -> None:
    """A JSON body naming a key twice is a 422 naming the key's path."""
    response = await http.request(
        method, path, content=body.encode(), headers={"content-type": "application/json"}
    )
    errors = _problem(response, 422)["errors"]
    assert errors == [{"field": field, "message": "Duplicate key in a JSON object."}]


async def assert_allow(http: httpx.AsyncClient, method: str, path: str, allowed: list[str]) -> None:
    """A method the path does not allow is a 405 whose Allow lists every method it does."""
    response = await http.request(method, path)
    _problem(response, 405)
    assert response.headers["allow"] == ", ".join(allowed)


async def assert_dead_letters_listed(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The operator's dead-letter list answers 200 (also before any topic exists)."""
    response = await http.get("/operator/dead-letters")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
