"""Which routes `IdempotentRoute` gives the Idempotency-Key claim to, and what a subclass adds.

The claim's behaviour (replay, 409, no-store answers not kept) runs on real PostgreSQL in the
case service's tests; here, the routes as FastAPI builds them and documents them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from gmirs_runtime.idempotency import (
    Addition,
    IdempotentPost,
    IdempotentRoute,
    claim_idempotency_key,
)


async def guard() -> None:
    """A subclass's own dependency (the case service's If-Match guard, say)."""


class GuardedRoute(IdempotentRoute):
    @classmethod
    def additions(
        cls, path: str, methods: set[str], endpoint: Callable[..., Any]
    ) -> list[Addition]:
        added = super().additions(path, methods, endpoint)
        if "{thing_id}" in path and methods - {"GET"}:
            added.append((Depends(guard), (412,)))
        return added


def _router() -> APIRouter:
    router = APIRouter(prefix="/things", route_class=GuardedRoute)

    @router.get("/{thing_id}")
    async def read_thing(thing_id: str) -> None: ...

    @router.post("/{thing_id}/parts", dependencies=[IdempotentPost])  # declared as well: once
    async def add_part(thing_id: str) -> None: ...

    @router.put("/{thing_id}")
    async def put_thing(thing_id: str) -> None: ...

    @router.post("")
    async def make_thing() -> None: ...

    return router


def _app() -> FastAPI:
    app = FastAPI()
    app.include_router(_router())
    return app


def _dependencies(path: str, method: str) -> list[Any]:
    """The functions of the route's own dependencies, in the order FastAPI solves them."""
    [route] = [
        r
        for r in _router().routes
        if isinstance(r, APIRoute) and (r.path, r.methods) == (path, {method})
    ]
    return [d.dependency for d in route.dependencies]


def _operation(app: FastAPI, method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = app.openapi()["paths"][path][method]
    return operation


def _headers(operation: dict[str, Any]) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]


def test_every_post_claims_its_key_once_and_no_other_method_does() -> None:
    app = _app()
    for method, path in (("post", "/things/{thing_id}/parts"), ("post", "/things")):
        operation = _operation(app, method, path)
        assert _headers(operation) == ["Idempotency-Key"]
        assert {"409", "422"} <= set(operation["responses"])
    for method, path in (("get", "/things/{thing_id}"), ("put", "/things/{thing_id}")):
        assert "Idempotency-Key" not in _headers(_operation(app, method, path))
    parts = _dependencies("/things/{thing_id}/parts", "POST")
    assert parts == [claim_idempotency_key, guard]  # once, and the claim first


def test_a_subclass_adds_its_own_after_the_claim_and_documents_its_problems() -> None:
    app = _app()
    assert _dependencies("/things/{thing_id}", "PUT") == [guard]
    assert _dependencies("/things/{thing_id}", "GET") == []
    assert _dependencies("/things", "POST") == [claim_idempotency_key]
    assert "412" in _operation(app, "put", "/things/{thing_id}")["responses"]
    assert "412" not in _operation(app, "get", "/things/{thing_id}")["responses"]
