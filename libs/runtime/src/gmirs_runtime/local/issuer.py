"""A local OAuth2 authorization server (client credentials) so the whole stack runs offline.

LOCAL USE ONLY. Built on authlib's `AuthorizationServer` + `ClientCredentialsGrant`; tokens are
RS256 JWT access tokens (RFC 9068) signed with a joserfc key whose public half is served at
`/.well-known/jwks.json`. authlib accepts plain http only for loopback hosts, which is where this
server listens, so no insecure-transport override is needed. Run it as a process with
`python -m gmirs_runtime.local.issuer --port P --clients-file clients.json [--key-file key.pem]`.

Its endpoints are limited per remote address (429 with Retry-After), and after
`max_failed_authentications` failed client authentications within `failure_window_seconds`, per
client id and per address, the token endpoint answers 429 without checking the secret until the
window ends: guessing a secret costs a window per handful of guesses.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError, JsonRequest, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gmirs_runtime.local.issuer_guard import IssuerGuard, IssuerLimits, failure_keys, too_many

TOKEN_PATH = "/oauth2/token"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class IssuerClient:
    """A registered client; `claims` adds fixed extra claims (e.g. a tenant id) to its tokens."""

    client_id: str
    client_secret: str
    roles: tuple[str, ...]
    audience: tuple[str, ...] | str
    claims: Mapping[str, str] = field(default_factory=dict)


class IssuerKeys:
    """The signing key plus retired keys still published, so rotation keeps old tokens valid."""

    def __init__(self, signing_key: RSAKey | None = None) -> None:
        self.current = signing_key or generate_signing_key()
        self.current.ensure_kid()
        self.retired: list[RSAKey] = []

    def rotate(self, new_key: RSAKey | None = None) -> RSAKey:
        """Sign with a new key from now on; keep publishing the old one."""
        self.retired.append(self.current)
        self.current = new_key or generate_signing_key()
        self.current.ensure_kid()
        return self.current

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.current, *self.retired]).as_dict(private=False))


def generate_signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)


def load_or_create_key(path: Path) -> RSAKey:
    """Read the PEM signing key at `path`, or create it (mode 0600) so tokens survive restarts."""
    if path.exists():
        key = RSAKey.import_key(path.read_bytes(), parameters={"alg": "RS256", "use": "sig"})
        key.ensure_kid()
        return key
    key = generate_signing_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))
    return key


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, client: IssuerClient) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_allowed_scope(self, scope: str | None) -> str:
        return ""  # access is by role, not scope

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _ClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, issuer: str, keys: IssuerKeys, ttl_seconds: int) -> None:
        super().__init__(issuer, alg="RS256", expires_generator=ttl_seconds)
        self.keys = keys

    def get_jwks(self) -> KeySet:
        return KeySet([self.keys.current])  # one key, so joserfc puts its kid in the header

    def get_audiences(self, client: _Client, user: object, scope: str) -> str | list[str]:
        audience = client.client.audience
        return audience if isinstance(audience, str) else list(audience)

    def get_extra_claims(
        self, client: _Client, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        return {**client.client.claims, "roles": list(client.client.roles)}


@dataclass
class _Incoming:
    method: str
    url: str
    headers: Mapping[str, str]
    form: dict[str, str]


class _TokenRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, incoming: _Incoming) -> None:
        super().__init__(incoming.method, incoming.url, headers=incoming.headers)
        self.payload = BasicOAuth2Payload(incoming.form)
        self._form = incoming.form

    @property
    def form(self) -> dict[str, str]:
        return self._form


class LocalAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's server adapted to Starlette; stateless, since JWTs need no token store."""

    def __init__(self, clients: Sequence[IssuerClient]) -> None:
        super().__init__()
        self.clients = {client.client_id: _Client(client) for client in clients}

    def query_client(self, client_id: str) -> _Client | None:
        return self.clients.get(client_id)

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> _Client:
        """As authlib's, but a failed client authentication is always a 401 (RFC 6749 5.2)."""
        try:
            client: _Client = super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            error.status_code = 401
            raise
        return client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        return None

    def create_oauth2_request(self, request: _Incoming) -> OAuth2Request:
        return _TokenRequest(request)

    def create_json_request(self, request: _Incoming) -> JsonRequest:
        return JsonRequest(request.method, request.url, request.headers)

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        return JSONResponse(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class _Endpoints:
    issuer_url: str
    keys: IssuerKeys
    server: LocalAuthorizationServer
    guard: IssuerGuard

    async def token(self, request: Request) -> Response:
        refused = self.guard.admit(request)
        if refused is not None:
            return refused
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        keys = failure_keys(request, form)
        wait = max(self.guard.failures.blocked_for(key) for key in keys)
        if wait > 0:  # the secret is not even looked at
            return too_many(wait, "Too many failed client authentications; retry later.")
        incoming = _Incoming(request.method, str(request.url), request.headers, form)
        try:
            response: Response = self.server.create_token_response(incoming)
        except OAuth2Error as error:  # e.g. insecure transport: not a loopback host
            status, body, headers = error()
            return JSONResponse(body, status_code=status, headers=dict(headers))
        if response.status_code == 401:
            for key in keys:
                self.guard.failures.record(key)
        return response

    async def jwks(self, request: Request) -> Response:
        refused = self.guard.admit(request)
        if refused is not None:
            return refused
        return JSONResponse(self.keys.jwks(), headers={"Cache-Control": "max-age=60"})

    async def metadata(self, request: Request) -> Response:
        refused = self.guard.admit(request)
        if refused is not None:
            return refused
        base = self.issuer_url.rstrip("/")
        return JSONResponse(
            {
                "issuer": self.issuer_url,
                "token_endpoint": base + TOKEN_PATH,
                "jwks_uri": base + JWKS_PATH,
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": AUTH_METHODS,
                "response_types_supported": [],
            }
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})


def create_issuer_app(
    *,
    issuer_url: str,
    clients: Sequence[IssuerClient],
    token_ttl_seconds: int = 900,
    signing_key: RSAKey | None = None,
    limits: IssuerLimits | None = None,
) -> Starlette:
    """The issuer as an ASGI app; `app.state.keys` (IssuerKeys) allows rotation in tests."""
    keys = IssuerKeys(signing_key)
    server = LocalAuthorizationServer(clients)
    server.register_grant(_ClientCredentialsGrant)
    server.register_token_generator("default", _TokenGenerator(issuer_url, keys, token_ttl_seconds))
    endpoints = _Endpoints(issuer_url, keys, server, IssuerGuard.of(limits or IssuerLimits()))
    app = Starlette(
        routes=[
            Route(TOKEN_PATH, endpoints.token, methods=["POST"]),
            Route(JWKS_PATH, endpoints.jwks, methods=["GET"]),
            Route(METADATA_PATH, endpoints.metadata, methods=["GET"]),
            Route("/health", endpoints.health, methods=["GET"]),
        ]
    )
    app.state.keys = keys
    return app


def load_clients(path: Path) -> list[IssuerClient]:
    """Clients from JSON: a list (or {"clients": [...]}) of IssuerClient fields."""
    data = json.loads(path.read_text())
    entries = data["clients"] if isinstance(data, dict) else data
    return [
        IssuerClient(
            client_id=entry["client_id"],
            client_secret=entry["client_secret"],
            roles=tuple(entry.get("roles", ())),
            audience=_audience(entry["audience"]),
            claims=dict(entry.get("claims", {})),
        )
        for entry in entries
    ]


def _audience(value: str | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the issuer on 127.0.0.1 until SIGINT/SIGTERM."""
    import uvicorn

    from gmirs_runtime.logs import configure_logging

    parser = argparse.ArgumentParser(description="Local OAuth2 issuer (development only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--issuer-url", help="default: http://<host>:<port>")
    parser.add_argument("--clients-file", type=Path, required=True)
    parser.add_argument("--key-file", type=Path, help="PEM signing key, created if missing")
    parser.add_argument("--token-ttl", type=int, default=900)
    defaults = IssuerLimits()
    parser.add_argument("--rate-limit", type=float, default=defaults.requests_per_second)
    parser.add_argument("--rate-burst", type=int, default=defaults.request_burst)
    parser.add_argument("--max-failed-auth", type=int, default=defaults.max_failed_authentications)
    parser.add_argument("--failure-window", type=float, default=defaults.failure_window_seconds)
    args = parser.parse_args(argv)
    configure_logging("local-issuer")
    app = create_issuer_app(
        issuer_url=args.issuer_url or f"http://{args.host}:{args.port}",
        clients=load_clients(args.clients_file),
        token_ttl_seconds=args.token_ttl,
        signing_key=load_or_create_key(args.key_file) if args.key_file else None,
        limits=IssuerLimits(
            args.rate_limit, args.rate_burst, args.max_failed_auth, args.failure_window
        ),
    )
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
