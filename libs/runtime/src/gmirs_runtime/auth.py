"""Bearer-token authentication for the APIs: RS256 JWTs checked against the issuer's JWKS.

Signing keys are cached and refetched when a token names an unknown `kid` (the issuer rotated),
at most once per `min_refetch_seconds`, so a flood of forged kids cannot hammer the issuer.
Tenancy is generic here: a service names the claim that carries the tenant, the roles that
must have one and (optionally) the tenants that exist; a principal with such a role but no
tenant, or naming a tenant that does not exist, is refused. A token must carry `iat` and `exp`
no further apart than `max_lifetime_seconds`: a leaked long-lived token is a standing key.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gmirs_runtime.limits import (
    RATE_LIMITED_RESPONSES,
    count_refused,
    enforce_limit,
    refuse_failing_address,
)
from gmirs_runtime.problems import Problem, problem_responses

ALGORITHMS = ("RS256",)
ACCEPTED_TOKENS_CACHED = 1024
LEEWAY_SECONDS = 30
MAX_LIFETIME_SECONDS = 3600


class AuthError(Exception):
    """The request's credentials were refused."""


class InvalidTokenError(AuthError):
    """Missing, malformed, wrongly signed, expired or not meant for this API (answer 401)."""


class AccessDeniedError(AuthError):
    """A valid token whose principal may not use this API (answer 403)."""


class KeysUnavailableError(AuthError):
    """The issuer's keys could not be fetched, so no token can be checked (answer 503)."""


@dataclass(frozen=True)
class Principal:
    """The authenticated client: who it is, its roles and (for tenant roles) its tenant."""

    client_id: str
    roles: frozenset[str]
    tenant_id: str | None = None

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


class JWKSCache:
    """The issuer's public keys, fetched lazily and refetched (rate-limited) on an unknown kid."""

    def __init__(
        self,
        jwks_url: str,
        http: httpx.AsyncClient | None = None,
        *,
        min_refetch_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.jwks_url = jwks_url
        self.min_refetch_seconds = min_refetch_seconds
        self.fetch_count = 0
        self._http = http
        self._owns_http = http is None
        self._timeout = timeout_seconds
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def keys_for(self, kid: str | None) -> KeySet:
        """The key set, refreshed first if it lacks `kid` and the rate limit allows."""
        if self._keys is not None and _has_kid(self._keys, kid):
            return self._keys
        async with self._lock:
            if self._keys is None or (not _has_kid(self._keys, kid) and self._may_refetch()):
                self._keys = await self._fetch()
        return self._keys

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    def _may_refetch(self) -> bool:
        return (
            self._fetched_at is None
            or time.monotonic() - self._fetched_at >= self.min_refetch_seconds
        )

    async def _fetch(self) -> KeySet:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        self._fetched_at = time.monotonic()
        self.fetch_count += 1
        try:
            response = await self._http.get(self.jwks_url, timeout=self._timeout)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            if self._keys is not None:
                return self._keys  # keep serving known keys while the issuer is unreachable
            raise KeysUnavailableError(type(exc).__name__) from exc


class TokenValidator:
    """Validates access tokens for one API (issuer + audience) and yields its Principal."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str,
        http: httpx.AsyncClient | None = None,
        *,
        tenant_claim: str | None = None,
        tenant_roles: Collection[str] = (),
        known_tenants: Collection[str] | None = None,
        max_lifetime_seconds: int = MAX_LIFETIME_SECONDS,
        min_refetch_seconds: float = 30.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.tenant_claim = tenant_claim
        self.tenant_roles = frozenset(tenant_roles)
        self.known_tenants = None if known_tenants is None else frozenset(known_tenants)
        self.max_lifetime_seconds = max_lifetime_seconds
        self.jwks = JWKSCache(jwks_url, http, min_refetch_seconds=min_refetch_seconds)
        self._accepted: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )

    async def validate(self, token: str) -> Principal:
        """Check signature, issuer, audience and lifetime; raise AuthError subclasses if refused.

        A token already accepted is answered from a small cache until it expires: clients reuse
        one token for many requests, and verifying an RSA signature on each is the costliest
        part of authentication. Only tokens that passed every check (lifetime and tenant
        included) are cached, and never beyond their own `exp`.
        """
        cached = self._accepted.get(token)
        if cached is not None and cached[0] > time.time():
            self._accepted.move_to_end(token)
            return cached[1]
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
            if header.get("alg") not in ALGORITHMS:
                raise InvalidTokenError("unsupported algorithm")
            keys = await self.jwks.keys_for(header.get("kid"))
            claims = jwt.decode(token, keys, algorithms=list(ALGORITHMS)).claims
            self._claims.validate(claims)
        except (JoseError, ValueError, UnicodeError) as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        if float(claims["exp"]) - float(claims["iat"]) > self.max_lifetime_seconds:
            raise InvalidTokenError("the token's lifetime exceeds the maximum")
        principal = self._principal(claims)
        self._remember(token, float(claims["exp"]), principal)
        return principal

    def _remember(self, token: str, expires_at: float, principal: Principal) -> None:
        self._accepted[token] = (expires_at, principal)
        while len(self._accepted) > ACCEPTED_TOKENS_CACHED:
            self._accepted.popitem(last=False)

    async def aclose(self) -> None:
        await self.jwks.aclose()

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidTokenError("roles claim must be a list of strings")
        tenant = claims.get(self.tenant_claim) if self.tenant_claim else None
        if tenant is not None and not isinstance(tenant, str):
            raise InvalidTokenError("tenant claim must be a string")
        principal = Principal(
            str(claims.get("client_id") or claims["sub"]), frozenset(roles), tenant
        )
        if tenant is None and principal.has_any_role(*self.tenant_roles):
            raise AccessDeniedError("a tenant role without a tenant")
        known = self.known_tenants
        if tenant is not None and known is not None and tenant not in known:
            raise AccessDeniedError("a tenant that is not configured")
        return principal


_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT")


async def authenticate(request: Request, token: str | None) -> Principal:
    """The request's Principal, checked once per request however many dependencies ask.

    The first call validates the token and takes one token from the client's rate-limit
    bucket; later calls in the same request (a router's guard and a route's role check) get
    the same Principal without charging the client again.
    """
    # `request.state` keeps its attributes in the request's own scope["state"]; reading that
    # dict spares the AttributeError of a missing attribute (about 3 microseconds).
    known = request.scope.get("state", {}).get("principal")
    if isinstance(known, Principal):
        return known
    validator = getattr(request.app.state, "token_validator", None)
    if not isinstance(validator, TokenValidator):
        raise RuntimeError("app.state.token_validator is not set (pass one to create_app)")
    refuse_failing_address(request)
    if token is None:
        count_refused(request)
        raise _unauthorized("A bearer access token is required.", 'Bearer realm="api"')
    try:
        principal = await validator.validate(token)
    except AccessDeniedError as exc:
        raise Problem(403, detail="The client is not allowed to use this API.") from exc
    except KeysUnavailableError as exc:
        raise Problem(503, detail="Access tokens cannot be checked right now.") from exc
    except InvalidTokenError as exc:
        count_refused(request)
        raise _unauthorized(
            "The access token is invalid or has expired.", 'Bearer error="invalid_token"'
        ) from exc
    enforce_limit(request, "client:" + principal.client_id)
    request.state.principal = principal
    return principal


class PrincipalGuard(SecurityBase):
    """The bearer scheme and the principal check as one FastAPI dependency: the Principal, if
    it has one of `roles` (any Principal when `roles` is None), else a 401/403 problem.

    FastAPI solves every node of a route's dependency graph on every request, at a cost larger
    than the check a node wraps, so the guard reads the bearer token itself instead of
    depending on `HTTPBearer` in between. OpenAPI documents it as
    that scheme: same name, same model.
    """

    def __init__(self, roles: Collection[str] | None = None) -> None:
        self.model = _bearer.model
        self.scheme_name = _bearer.scheme_name
        self.roles = None if roles is None else frozenset(roles)

    async def __call__(self, request: Request) -> Principal:
        principal = await authenticate(request, _bearer_token(request))
        if self.roles is not None and principal.roles.isdisjoint(self.roles):
            raise Problem(403, detail="The client's role does not allow this operation.")
        return principal


def _bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, read as `HTTPBearer` reads it."""
    authorization = request.headers.get("Authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    return token if authorization and token and scheme.lower() == "bearer" else None


_any_principal = PrincipalGuard()
CurrentPrincipal = Annotated[Principal, Depends(_any_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency factory: the Principal if it has any of `roles`, else a 403 problem."""
    return PrincipalGuard(roles)


class AuthenticatedRoute(APIRoute):
    """A route of an `authenticated_router`. The router's any-principal guard is left out of a
    route whose endpoint checks a role itself (a `PrincipalGuard`, solved on every request all
    the same) when nothing else runs before the endpoint: FastAPI would solve both guards on
    every request, about 20 microseconds for nothing. Where a route class runs a dependency of
    its own first (an idempotency claim reads the caller with `principal_of`), the router's
    guard stays, ahead of it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        given = kwargs.get("dependencies") or []
        only_the_guard = bool(given) and all(d.dependency is _any_principal for d in given)
        if only_the_guard and _checks_a_role(path, endpoint):
            kwargs["dependencies"] = []
        super().__init__(path, endpoint, **kwargs)


def _checks_a_role(path: str, endpoint: Callable[..., Any]) -> bool:
    def guarded(dependant: Dependant) -> bool:
        own = isinstance(dependant.call, PrincipalGuard) and dependant.call.roles is not None
        return own or any(guarded(d) for d in dependant.dependencies)

    return guarded(get_dependant(path=path, call=endpoint))


def authenticated_router(*, roles: Collection[str] = (), **kwargs: Any) -> APIRouter:
    """An APIRouter whose every route requires a valid token (and documents 401/403/429).

    With `roles`, every route also requires one of them, and routes read the caller with
    `principal_of(request)`: checking the role once for the router instead of in a dependency
    per route saves FastAPI resolving a second graph node on every request (measured: about
    12 of the 220 microseconds a direct referral spends in the app).
    """
    guard = require_roles(*roles) if roles else _any_principal
    dependencies = [Depends(guard), *(kwargs.pop("dependencies", None) or [])]
    responses = {
        **problem_responses(401, 403),
        **RATE_LIMITED_RESPONSES,
        **(kwargs.pop("responses", None) or {}),
    }
    kwargs.setdefault("route_class", AuthenticatedRoute)
    return APIRouter(dependencies=dependencies, responses=responses, **kwargs)


def principal_of(request: Request) -> Principal:
    """The caller of a route on an authenticated router, as its guard validated it."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError(
            "no authenticated principal: the route is not on an authenticated_router"
        )
    return principal


def _unauthorized(detail: str, challenge: str) -> Problem:
    return Problem(401, detail=detail, headers={"WWW-Authenticate": challenge})


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    if kid is None:
        return len(keys.keys) == 1
    return any(key.kid == kid for key in keys)
