"""A real token issuer for tests: JWKS over real HTTP, tokens minted for any client shape.

Services under test fetch the JWKS from it exactly as in production; tests mint tokens with the
roles, audience and tenant claims they need, without registering clients first.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
import uvicorn
from joserfc import jwt

from gmirs_runtime.local.issuer import JWKS_PATH, IssuerKeys, create_issuer_app
from gmirs_runtime.local.ports import free_port, tcp_accepts


@dataclass
class TestIssuer:
    url: str
    keys: IssuerKeys

    __test__ = False  # not a test class

    @property
    def jwks_url(self) -> str:
        return self.url + JWKS_PATH

    def mint(
        self,
        client_id: str,
        roles: Sequence[str],
        audience: str | Sequence[str],
        claims: Mapping[str, Any] | None = None,
        ttl: int = 600,
    ) -> str:
        """A signed access token as the issuer would issue it to such a client."""
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": audience if isinstance(audience, str) else list(audience),
            "sub": client_id,
            "client_id": client_id,
            "roles": list(roles),
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            **(claims or {}),
        }
        key = self.keys.current
        return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def token_issuer() -> AsyncIterator[TestIssuer]:
    """One issuer per test session, serving its JWKS on a free loopback port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_issuer_app(issuer_url=url, clients=[])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not await tcp_accepts(port):  # noqa: ASYNC110 - a port has no event to await
                await asyncio.sleep(0.05)
        yield TestIssuer(url, app.state.keys)
    finally:
        server.should_exit = True
        await task
