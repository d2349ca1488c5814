"""A fake HMPPS Auth: the client-credentials token endpoint R&M's consumers call, its JWKS, and the
resource-server check R&M applies to every API request.

Tokens are RS256 JWTs like HMPPS Auth's: `sub` and `client_id` are the client, `authorities` carries
ROLE_INTERVENTIONS_API_READ_ALL, `exp` is `token_ttl` seconds ahead. A client-credentials request
with a `username` form field gets a token on behalf of that user, as HMPPS Auth issues to trusted
clients: `sub` and `user_name` are the username, with `user_id` and `auth_source` "auth" (an
external, service-provider user); R&M's user-mapped endpoints need those claims (`user_of`). `expire_all` makes every token
issued so far fail as expired at once, so "the token expired mid-run" needs no waiting.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.rm_faults import Outage

READ_ALL = "ROLE_INTERVENTIONS_API_READ_ALL"
ACCEPTED_ROLES = frozenset({READ_ALL, "ROLE_PROBATION", "ROLE_CRS_PROVIDER"})


@dataclass
class HmppsAuth:
    issuer: str
    client_id: str
    client_secret: str
    token_ttl: int
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(
            2048, parameters={"alg": "RS256"}, auto_kid=True
        )
    )
    tokens_issued: int = 0
    revoked_before: float = 0.0  # tokens issued earlier than this count as expired

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    def expire_all(self) -> None:
        self.revoked_before = time.time()

    def issue(
        self,
        client_id: str,
        *,
        roles: list[str] | None = None,
        ttl: int | None = None,
        username: str | None = None,
    ) -> str:
        """A signed access token (also used by tests that want a token without the HTTP dance)."""
        return self._issue(client_id, roles, ttl, username)[0]

    def _issue(
        self,
        client_id: str,
        roles: list[str] | None,
        ttl: int | None,
        username: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        issued = time.time()
        claims: dict[str, Any] = {
            "sub": client_id,
            "client_id": client_id,
            "grant_type": "client_credentials",
            "auth_source": "none",
            "scope": ["read", "write"],
            "authorities": roles if roles is not None else [READ_ALL],
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "iat": int(issued),
            "issued_at": issued,  # sub-second, so expire_all can tell tokens of the same second apart
            "exp": int(issued) + (self.token_ttl if ttl is None else ttl),
        }
        if username:
            claims |= {
                "sub": username,
                "user_name": username,
                "user_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"hmpps-auth/{username}")),
                "auth_source": "auth",
            }
        self.tokens_issued += 1
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key), claims

    async def token_endpoint(self, request: Request, outage: Outage) -> Response:
        """POST /auth/oauth/token (client_credentials; HTTP Basic, or form fields as a fallback)."""
        if outage.hit():
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=outage.status)
        form = await request.form()
        client_id, secret = _basic_credentials(request.headers.get("authorization", ""))
        if client_id is None:
            client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if not (
            hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest((secret or "").encode(), self.client_secret.encode())
        ):
            body = {"error": "invalid_client", "error_description": "Bad client credentials"}
            return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Basic"})
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        username = str(form.get("username", "")).strip() or None
        token, claims = self._issue(client_id, None, None, username)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_ttl,
                "scope": "read write",
                "sub": claims["sub"],
                "auth_source": claims["auth_source"],
                "iss": self.issuer,
                "jti": claims["jti"],
            },
            headers={"Cache-Control": "no-store"},
        )

    def user_of(self, request: Request) -> dict[str, str] | None:
        """The user a (checked) token acts for, as R&M maps it; None for a bare client token."""
        _, _, token = request.headers.get("authorization", "").partition(" ")
        claims = jwt.decode(token, self.key, algorithms=["RS256"]).claims
        names = ("user_name", "user_id", "auth_source")
        if not all(claims.get(n) for n in names) or claims["auth_source"] not in ("auth", "delius"):
            return None
        return {
            "username": claims["user_name"],
            "authSource": claims["auth_source"],
            "userId": claims["user_id"],
        }

    def check(self, request: Request) -> Response | None:
        """None if the bearer token is valid and carries an accepted role, else the 401/403."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _unauthorized(None)
        try:
            claims = jwt.decode(token, self.key, algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _unauthorized("An error occurred while attempting to decode the Jwt")
        if claims.get("iss") != self.issuer:
            return _unauthorized("The iss claim is not valid")
        issued_at = claims.get("issued_at") or claims.get("iat") or 0
        expired = float(issued_at) < self.revoked_before
        if expired or int(claims.get("exp", 0)) <= time.time():
            return _unauthorized("Jwt expired")
        if not ACCEPTED_ROLES.intersection(claims.get("authorities") or []):
            body = {"status": 403, "error": "access denied", "message": "missing required role"}
            return JSONResponse(body, status_code=403)
        return None


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def _unauthorized(description: str | None) -> Response:
    """As Spring Security's resource server answers: no body, the reason in WWW-Authenticate."""
    challenge = "Bearer"
    if description:
        challenge += f' error="invalid_token", error_description="{description}"'
    return Response(status_code=401, headers={"WWW-Authenticate": challenge})
