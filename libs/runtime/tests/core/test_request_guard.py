"""Hostile input against an app built with create_app: huge bodies, NUL, duplicate keys, 405s."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header
from pydantic import BaseModel

from gmirs_runtime.http import create_app
from gmirs_runtime.problems import PROBLEM_MEDIA_TYPE, Problem
from gmirs_runtime.request_guard import DEFAULT_MAX_BODY_BYTES

SECRET = "Jane Doe"


class Owner(BaseModel):
    email: str


class NewThing(BaseModel):
    name: str
    owner: Owner
    tags: list[str] = []


def _app(sleeping: asyncio.Event | None = None) -> FastAPI:
    router = APIRouter(prefix="/things")

    @router.post("")
    async def create_thing(thing: NewThing) -> dict[str, str]:
        return {"name": thing.name}

    @router.get("/{thing_id}")
    async def read_thing(thing_id: str, q: str = "", x_tag: str = Header("")) -> dict[str, str]:
        return {"thing_id": thing_id}

    @router.put("/{thing_id}")
    async def replace_thing(thing_id: str) -> None:
        raise Problem(422, detail="Things cannot be replaced on Sundays.")

    @router.get("/special/cancelled")
    async def cancelled() -> None:
        raise asyncio.CancelledError  # what aiokafka raises out of its own cancelled tasks

    @router.get("/special/slow")
    async def slow() -> None:
        assert sleeping is not None
        sleeping.set()
        await asyncio.sleep(60)

    return create_app(title="t", version="1", settings=None, routers=[router], token_validator=None)


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


def _errors(response: httpx.Response, status: int = 422) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert SECRET not in response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def _json(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


async def test_a_body_over_the_limit_is_a_413_by_its_content_length(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/things", **_json(" " * (DEFAULT_MAX_BODY_BYTES + 1)))

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(api: httpx.AsyncClient) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 20 * DEFAULT_MAX_BODY_BYTES:
            sent += 65536
            yield b" " * 65536

    response = await api.post(
        "/things", content=endless(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert sent <= DEFAULT_MAX_BODY_BYTES + 2 * 65536


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "Jane Doe\\u0000", "owner": {"email": "a@b"}}', "body.name"),
        (
            '{"name": "x", "owner": {"email": "a@b"}, "tags": ["ok", "Jane Doe\\u0000"]}',
            "body.tags.1",
        ),
        ('{"name": "x", "owner": {"email": "a@b", "Jane Doe\\u0000": 1}}', "body.owner.<key>"),
    ],
)
async def test_a_nul_in_a_json_string_or_key_is_a_422_naming_it(
    api: httpx.AsyncClient, body: str, field: str
) -> None:
    errors = _errors(await api.post("/things", **_json(body)))

    assert [e["field"] for e in errors] == [field]
    assert "NUL" in errors[0]["message"]


async def test_a_nul_in_a_path_query_or_header_is_a_422_naming_it(api: httpx.AsyncClient) -> None:
    in_path = await api.get("/things/Jane%20Doe%00")
    in_query = await api.get("/things/1?q=Jane%20Doe%00")
    in_header = await api.get("/things/1", headers=[(b"x-tag", b"Jane Doe\x00")])

    assert [e["field"] for e in _errors(in_path)] == ["path.thing_id"]
    assert [e["field"] for e in _errors(in_query)] == ["query.q"]
    assert [e["field"] for e in _errors(in_header)] == ["header.x-tag"]


async def test_a_duplicate_key_is_a_422_naming_its_path(api: httpx.AsyncClient) -> None:
    body = '{"name": "x", "owner": {"email": "a@b", "email": "Jane Doe"}}'

    errors = _errors(await api.post("/things", **_json(body)))

    assert errors == [{"field": "body.owner.email", "message": "Duplicate key in a JSON object."}]


async def test_a_body_that_is_not_utf8_is_a_documented_400(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/things", content=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    operation = (await api.get("/openapi.json")).json()["paths"]["/things"]["post"]

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert operation["responses"]["400"]["content"][PROBLEM_MEDIA_TYPE]
    assert operation["responses"]["413"]["content"][PROBLEM_MEDIA_TYPE]
    assert operation["responses"]["422"]["content"][PROBLEM_MEDIA_TYPE]


async def test_a_valid_body_still_passes(api: httpx.AsyncClient) -> None:
    response = await api.post("/things", json={"name": "x", "owner": {"email": "a@b"}})

    assert response.status_code == 200
    assert response.json() == {"name": "x"}


async def test_a_domain_422_lists_its_errors(api: httpx.AsyncClient) -> None:
    errors = _errors(await api.put("/things/1"))

    assert errors == [{"field": "body", "message": "Things cannot be replaced on Sundays."}]


async def test_a_405_allows_every_method_of_the_path(api: httpx.AsyncClient) -> None:
    response = await api.delete("/things/1")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"


async def test_a_cancelled_library_task_is_a_problem_not_plain_text(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/things/special/cancelled")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


async def test_a_real_cancellation_still_propagates() -> None:
    sleeping = asyncio.Event()
    transport = httpx.ASGITransport(app=_app(sleeping))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        request = asyncio.create_task(client.get("/things/special/slow"))
        await sleeping.wait()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
