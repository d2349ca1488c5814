"""Per-client request limits: the token bucket, the 429 problem, and where the key comes from."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI

from gmirs_runtime.auth import TokenValidator, authenticated_router, require_roles
from gmirs_runtime.http import create_app
from gmirs_runtime.limits import RateLimiter, address_limited_router
from gmirs_runtime.problems import PROBLEM_MEDIA_TYPE

from .conftest import GetToken


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3, clock=clock)

    assert [limiter.wait_for("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait_for("a") == pytest.approx(0.5)
    assert limiter.wait_for("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert limiter.wait_for("a") == 0.0
    assert limiter.wait_for("a") == pytest.approx(0.5)
    clock.now += 60
    assert [limiter.wait_for("a") for _ in range(4)][-1] > 0  # refills to the burst, no further


def test_refused_requests_do_not_push_the_next_token_further_away() -> None:
    clock = Clock()
    limiter = RateLimiter(1.0, 1, clock=clock)
    limiter.wait_for("a")
    for _ in range(50):
        limiter.wait_for("a")
    clock.now += 1.0
    assert limiter.wait_for("a") == 0.0


def test_the_number_of_buckets_is_bounded() -> None:
    limiter = RateLimiter(1.0, 1, max_keys=3, clock=Clock())
    for key in ("a", "b", "c", "d"):
        limiter.wait_for(key)
    assert limiter.wait_for("a") == 0.0  # "a" was forgotten, so it starts full again
    assert limiter.wait_for("d") > 0


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 5), (1.0, 0)])
def test_a_limit_must_be_positive(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate, burst)


def _app(validator: TokenValidator, limiter: RateLimiter) -> FastAPI:
    private = authenticated_router(prefix="/items")

    @private.get("")
    async def list_items() -> dict[str, str]:
        return {"status": "ok"}

    # Three principal checks in one request: the router's, the route's and the role router's.
    readers = authenticated_router(prefix="/shelves", roles=["reader"])

    @readers.get("", dependencies=[Depends(require_roles("reader", "writer"))])
    async def list_shelves() -> dict[str, str]:
        return {"status": "ok"}

    public = address_limited_router(prefix="/push")

    @public.post("")
    async def receive_push() -> dict[str, str]:
        return {"status": "received"}

    app = create_app(
        title="Limited",
        version="1.0.0",
        settings=None,
        routers=[private, readers, public],
        token_validator=validator,
    )
    app.state.rate_limiter = limiter
    return app


@pytest.fixture
async def limited(validator: TokenValidator) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(validator, RateLimiter(0.5, 2))
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def test_a_client_over_its_limit_gets_a_429_problem_with_retry_after(
    limited: httpx.AsyncClient, get_token: GetToken
) -> None:
    reader = {"Authorization": f"Bearer {await get_token('reader-client')}"}
    writer = {"Authorization": f"Bearer {await get_token('writer-client')}"}

    statuses = [(await limited.get("/items", headers=reader)).status_code for _ in range(2)]
    refused = await limited.get("/items", headers=reader)

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["status"] == 429
    assert (await limited.get("/items", headers=writer)).status_code == 200  # per client id


async def test_a_request_checked_by_several_guards_is_charged_once(
    limited: httpx.AsyncClient, get_token: GetToken
) -> None:
    """The router's guard authenticates; the route's role check reuses that principal."""
    reader = {"Authorization": f"Bearer {await get_token('reader-client')}"}

    statuses = [(await limited.get("/shelves", headers=reader)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]  # a burst of 2: one token per request, not per check


async def test_refused_credentials_are_limited_per_address_before_any_check(
    validator: TokenValidator, get_token: GetToken
) -> None:
    app = _app(validator, RateLimiter(0.5, 2))
    reader = {"Authorization": f"Bearer {await get_token('reader-client')}"}
    junk = {"Authorization": "Bearer junk"}
    transports = {
        address: httpx.ASGITransport(app=app, client=(address, 5000))
        for address in ("192.0.2.8", "192.0.2.9")
    }
    async with (
        httpx.AsyncClient(transport=transports["192.0.2.8"], base_url="http://a") as forger,
        httpx.AsyncClient(transport=transports["192.0.2.9"], base_url="http://a") as honest,
    ):
        statuses = [(await forger.get("/items", headers=junk)).status_code for _ in range(2)]
        statuses.append((await forger.get("/items")).status_code)  # no token at all
        statuses.append((await forger.get("/items", headers=reader)).status_code)
        elsewhere = (await honest.get("/items", headers=reader)).status_code

    assert statuses == [401, 401, 429, 429]  # the address is refused before the token is read
    assert elsewhere == 200  # the client itself was not charged for the forger's requests


async def test_unauthenticated_routes_are_limited_per_remote_address(
    limited: httpx.AsyncClient,
) -> None:
    statuses = [(await limited.post("/push")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert (await limited.get("/health")).status_code == 200  # probes are never limited


def test_openapi_documents_429_with_retry_after(validator: TokenValidator) -> None:
    paths = _app(validator, RateLimiter(1, 1)).openapi()["paths"]
    for path, method in (("/items", "get"), ("/push", "post")):
        response = paths[path][method]["responses"]["429"]
        assert "Retry-After" in response["headers"]
        assert PROBLEM_MEDIA_TYPE in response["content"]
