"""The local issuer's limits: requests per remote address, failed authentications per client.

After `max_failed_authentications` failures within `failure_window_seconds`, per client id and
per source address, the token endpoint answers 429 (RFC 6749's error form, with Retry-After)
without looking at the secret until the window ends. The counts live in the one issuer process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gmirs_runtime.limits import FailureCounter, RateLimiter, remote_address


@dataclass(frozen=True)
class IssuerLimits:
    """Requests per remote address, and failed client authentications per client and address."""

    requests_per_second: float = 20.0
    request_burst: int = 100
    max_failed_authentications: int = 5
    failure_window_seconds: float = 300.0


@dataclass
class IssuerGuard:
    """The issuer's limits: requests per address, then failed authentications per client/address."""

    requests: RateLimiter
    failures: FailureCounter

    @classmethod
    def of(cls, limits: IssuerLimits) -> IssuerGuard:
        return cls(
            RateLimiter(limits.requests_per_second, limits.request_burst),
            FailureCounter(limits.max_failed_authentications, limits.failure_window_seconds),
        )

    def admit(self, request: Request) -> Response | None:
        """A 429 if the address is over its request rate, else None."""
        wait = self.requests.wait_for(remote_address(request))
        return None if wait <= 0 else too_many(wait, "Too many requests from this address.")


def failure_keys(request: Request, form: Mapping[str, str]) -> list[str]:
    """Failures count per source address and per the client id the request claims."""
    client_id, _ = extract_basic_authorization(request.headers)
    client_id = client_id or form.get("client_id")
    keys = ["address:" + remote_address(request)]
    return [*keys, "client:" + client_id] if client_id else keys


def too_many(wait_seconds: float, description: str) -> Response:
    """RFC 6749's error form with the status and Retry-After of RFC 6585."""
    return JSONResponse(
        {"error": "temporarily_unavailable", "error_description": description},
        status_code=429,
        headers={"Retry-After": str(max(1, math.ceil(wait_seconds))), "Cache-Control": "no-store"},
    )
