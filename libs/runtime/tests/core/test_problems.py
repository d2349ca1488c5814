"""Problem handlers on a bare FastAPI app (without create_app)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from gmirs_runtime.problems import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    install_problem_handlers,
    problem_response,
)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/search")
    async def search(limit: int, email: str | None = None) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/things")
    async def create_thing(payload: dict[str, int]) -> dict[str, int]:
        return payload

    @app.get("/conflict")
    async def conflict() -> None:
        raise HTTPException(409, detail="Already recorded.", headers={"Retry-After": "3"})

    @app.get("/gone")
    async def gone() -> None:
        raise Problem(410, headers={"X-Reason": "retention"}, retention_days=30)

    @app.get("/crash")
    async def crash() -> None:
        raise KeyError("jane@example.org")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


async def test_query_validation_errors_name_the_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/search", params={"limit": "PII-VALUE-123"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["title"] == "Unprocessable Content"
    assert [e["field"] for e in body["errors"]] == ["query.limit"]
    assert "PII-VALUE-123" not in response.text


async def test_malformed_json_is_a_422_without_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/things", content=b'{"name": "Jane Doe",', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("body")
    assert "Jane" not in response.text


async def test_http_exception_keeps_its_detail_and_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/conflict")

    assert response.status_code == 409
    assert response.headers["retry-after"] == "3"
    assert response.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "Already recorded.",
    }


async def test_problem_carries_headers_and_extension_members(client: httpx.AsyncClient) -> None:
    response = await client.get("/gone")

    assert response.status_code == 410
    assert response.headers["x-reason"] == "retention"
    assert response.json() == {
        "type": "about:blank",
        "title": "Gone",
        "status": 410,
        "retention_days": 30,
    }


async def test_unhandled_exception_is_a_generic_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/crash")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "jane" not in response.text
    assert "KeyError" not in response.text


def test_problem_response_for_an_unregistered_status() -> None:
    response = problem_response(599, detail="Odd.")

    assert response.status_code == 599
    assert response.media_type == PROBLEM_MEDIA_TYPE
    assert b'"title":"Error"' in response.body
