"""A real local issuer (in-process ASGI) and helpers to get and forge tokens against it."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette

from gmirs_runtime.auth import TokenValidator
from gmirs_runtime.local.issuer import (
    JWKS_PATH,
    TOKEN_PATH,
    IssuerClient,
    IssuerKeys,
    create_issuer_app,
)

ISSUER = "http://127.0.0.1:18443"
AUDIENCE = "orders-api"
TENANT_CLAIM = "team_id"
TENANT_ROLES = ("member",)

CLIENTS = [
    IssuerClient("reader-client", "reader-secret", ("reader",), AUDIENCE),
    IssuerClient("writer-client", "writer-secret", ("writer", "reader"), AUDIENCE),
    IssuerClient(
        "member-client",
        "member-secret",
        ("member",),
        (AUDIENCE, "other-api"),
        {TENANT_CLAIM: "blue"},
    ),
    IssuerClient("teamless-member", "teamless-secret", ("member",), AUDIENCE),
    IssuerClient("other-api-client", "other-secret", ("reader",), "other-api"),
]
SECRETS = {client.client_id: client.client_secret for client in CLIENTS}

GetToken = Callable[[str], Awaitable[str]]
Forge = Callable[..., str]


@pytest.fixture
def issuer_app() -> Starlette:
    return create_issuer_app(issuer_url=ISSUER, clients=CLIENTS, token_ttl_seconds=600)


@pytest.fixture
def issuer_keys(issuer_app: Starlette) -> IssuerKeys:
    keys = issuer_app.state.keys
    assert isinstance(keys, IssuerKeys)
    return keys


@pytest.fixture
async def issuer_http(issuer_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the issuer app over httpx's ASGI transport (full HTTP semantics, no sockets)."""
    transport = httpx.ASGITransport(app=issuer_app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


@pytest.fixture
def get_token(issuer_http: httpx.AsyncClient) -> GetToken:
    async def fetch(client_id: str) -> str:
        response = await issuer_http.post(
            TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=(client_id, SECRETS[client_id]),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    return fetch


@pytest.fixture
def forge(issuer_keys: IssuerKeys) -> Forge:
    """Sign arbitrary claims (defaults: a valid reader token) with the issuer's or another key."""

    def sign(key: RSAKey | None = None, header: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "forged-client",
            "client_id": "forged-client",
            "roles": ["reader"],
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        signing_key = key or issuer_keys.current
        signing_key.ensure_kid()
        return jwt.encode(
            {"alg": "RS256", "kid": signing_key.kid, **(header or {})}, body, signing_key
        )

    return sign


@pytest.fixture
def make_validator(
    issuer_http: httpx.AsyncClient,
) -> Callable[..., TokenValidator]:
    def build(**overrides: Any) -> TokenValidator:
        options: dict[str, Any] = {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks_url": ISSUER + JWKS_PATH,
            "http": issuer_http,
            "tenant_claim": TENANT_CLAIM,
            "tenant_roles": TENANT_ROLES,
        }
        options.update(overrides)
        return TokenValidator(**options)

    return build


@pytest.fixture
def validator(make_validator: Callable[..., TokenValidator]) -> TokenValidator:
    return make_validator()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root and uvicorn loggers back after a test that calls configure_logging."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (
            list(logging.getLogger(name).handlers),
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
