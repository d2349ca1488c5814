"""The local OAuth2 issuer: client credentials in, RS256 JWT access tokens out."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from joserfc import jws, jwt

from gmirs_runtime.auth import TokenValidator
from gmirs_runtime.limits import FailureCounter
from gmirs_runtime.local.issuer import (
    JWKS_PATH,
    METADATA_PATH,
    TOKEN_PATH,
    IssuerKeys,
    create_issuer_app,
    load_or_create_key,
)
from gmirs_runtime.local.issuer_guard import IssuerLimits

from .conftest import AUDIENCE, CLIENTS, ISSUER, SECRETS


async def test_issues_a_signed_jwt_with_the_client_claims(
    issuer_http: httpx.AsyncClient, issuer_keys: IssuerKeys
) -> None:
    response = await issuer_http.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=("member-client", SECRETS["member-client"]),
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    jwks = (await issuer_http.get(JWKS_PATH)).json()
    token = jwt.decode(body["access_token"], issuer_keys.current, algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] == issuer_keys.current.kid == jwks["keys"][0]["kid"]
    claims = token.claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == [AUDIENCE, "other-api"]
    assert claims["sub"] == claims["client_id"] == "member-client"
    assert claims["roles"] == ["member"]
    assert claims["team_id"] == "blue"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]


async def test_jwks_publishes_public_keys_only(issuer_http: httpx.AsyncClient) -> None:
    jwks = (await issuer_http.get(JWKS_PATH)).json()

    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["kty"] == "RSA"
    assert {"n", "e", "kid"} <= key.keys()
    assert "d" not in key
    assert "p" not in key


async def test_accepts_client_secret_post(issuer_http: httpx.AsyncClient) -> None:
    response = await issuer_http.post(
        TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_id": "reader-client",
            "client_secret": SECRETS["reader-client"],
        },
    )

    assert response.status_code == 200
    assert response.json()["access_token"].count(".") == 2


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("reader-client", "wrong-secret"), ("no-such-client", "whatever")],
)
async def test_rejects_bad_client_credentials(
    issuer_http: httpx.AsyncClient, client_id: str, secret: str
) -> None:
    basic = await issuer_http.post(
        TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    post = await issuer_http.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )

    for response in (basic, post):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert "access_token" not in response.json()


async def test_rejects_other_grant_types(issuer_http: httpx.AsyncClient) -> None:
    response = await issuer_http.post(
        TOKEN_PATH, data={"grant_type": "password"}, auth=("reader-client", "reader-secret")
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_metadata_names_the_endpoints(issuer_http: httpx.AsyncClient) -> None:
    metadata = (await issuer_http.get(METADATA_PATH)).json()

    assert metadata["issuer"] == ISSUER
    assert metadata["token_endpoint"] == ISSUER + TOKEN_PATH
    assert metadata["jwks_uri"] == ISSUER + JWKS_PATH
    assert metadata["grant_types_supported"] == ["client_credentials"]


async def test_rotation_signs_with_the_new_key_and_keeps_publishing_the_old(
    issuer_http: httpx.AsyncClient, issuer_keys: IssuerKeys
) -> None:
    old_kid = issuer_keys.current.kid
    new_kid = issuer_keys.rotate().kid

    response = await issuer_http.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=("reader-client", "reader-secret"),
    )
    header = jws.extract_compact(response.json()["access_token"].encode()).headers()
    kids = {key["kid"] for key in (await issuer_http.get(JWKS_PATH)).json()["keys"]}

    assert header["kid"] == new_kid != old_kid
    assert kids == {old_kid, new_kid}


def test_key_file_is_created_private_and_reloaded_with_the_same_kid(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "issuer.pem"

    created = load_or_create_key(path)
    reloaded = load_or_create_key(path)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert reloaded.kid == created.kid
    assert reloaded.as_dict(private=True)["d"] == created.as_dict(private=True)["d"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _issuer_process(tmp_path: Path, port: int) -> AsyncIterator[str]:
    """Run `python -m gmirs_runtime.local.issuer` on a real port until the block ends."""
    clients = tmp_path / "clients.json"
    clients.write_text(
        json.dumps(
            [
                {
                    "client_id": "cli-client",
                    "client_secret": "cli-secret",
                    "roles": ["reader"],
                    "audience": AUDIENCE,
                }
            ]
        )
    )
    url = f"http://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gmirs_runtime.local.issuer", "--port", str(port),
        "--clients-file", str(clients), "--key-file", str(tmp_path / "key.pem"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2.0) as client:
            for _ in range(200):
                if process.returncode is not None:
                    raise AssertionError(f"issuer exited with {process.returncode}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("issuer did not start within 10 s")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_runs_as_a_process_and_tokens_survive_a_restart(tmp_path: Path) -> None:
    port = _free_port()
    async with _issuer_process(tmp_path, port) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post(
            TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=("cli-client", "cli-secret")
        )
        assert response.status_code == 200
        token = response.json()["access_token"]
    assert stat.S_IMODE(os.stat(tmp_path / "key.pem").st_mode) == 0o600

    async with _issuer_process(tmp_path, port) as url:
        validator = TokenValidator(url, AUDIENCE, url + JWKS_PATH)
        try:
            principal = await validator.validate(token)
        finally:
            await validator.aclose()

    assert principal.client_id == "cli-client"
    assert principal.roles == frozenset({"reader"})


@asynccontextmanager
async def _limited_issuer(limits: IssuerLimits, address: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_issuer_app(issuer_url=ISSUER, clients=CLIENTS, limits=limits)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def test_failed_authentications_lock_the_client_out_without_checking_the_secret() -> None:
    limits = IssuerLimits(max_failed_authentications=3, failure_window_seconds=60)
    async with (
        _limited_issuer(limits, "192.0.2.1") as first,
        _limited_issuer(limits, "192.0.2.1") as unrelated_issuer,
    ):
        failures = [
            (await _token(first, "reader-client", f"guess-{n}")).status_code for n in range(3)
        ]
        locked = await _token(
            first, "reader-client", SECRETS["reader-client"]
        )  # even the right one
        post = await first.post(
            TOKEN_PATH,
            data={
                "grant_type": "client_credentials",
                "client_id": "reader-client",
                "client_secret": SECRETS["reader-client"],
            },
        )
        fresh = await _token(unrelated_issuer, "reader-client", SECRETS["reader-client"])

    assert failures == [401, 401, 401]
    assert locked.status_code == post.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert locked.json()["error"] == "temporarily_unavailable"
    assert "access_token" not in locked.json()
    assert fresh.status_code == 200  # the state is the issuer's own (one process)


async def test_failed_authentications_are_also_counted_per_source_address() -> None:
    limits = IssuerLimits(max_failed_authentications=3, failure_window_seconds=60)
    async with _limited_issuer(limits, "192.0.2.2") as http:
        for client_id in ("nobody-1", "nobody-2", "nobody-3"):  # a spray over client ids
            assert (await _token(http, client_id, "guess")).status_code == 401
        refused = await _token(http, "writer-client", SECRETS["writer-client"])

    assert refused.status_code == 429


async def test_a_success_does_not_count_and_unknown_ids_lock_like_known_ones() -> None:
    limits = IssuerLimits(max_failed_authentications=2, failure_window_seconds=60)
    async with _limited_issuer(limits, "192.0.2.3") as http:
        for _ in range(5):
            assert (
                await _token(http, "writer-client", SECRETS["writer-client"])
            ).status_code == 200
        assert (await _token(http, "ghost", "a")).status_code == 401
        assert (await _token(http, "ghost", "b")).status_code == 401
        assert (await _token(http, "ghost", "c")).status_code == 429


async def test_requests_are_limited_per_address() -> None:
    limits = IssuerLimits(requests_per_second=0.1, request_burst=2)
    async with _limited_issuer(limits, "192.0.2.4") as http:
        statuses = [(await http.get(JWKS_PATH)).status_code for _ in range(3)]
        token = await _token(http, "writer-client", SECRETS["writer-client"])
        health = await http.get("/health")

    assert statuses == [200, 200, 429]
    assert token.status_code == 429
    assert int(token.headers["retry-after"]) == 10
    assert health.status_code == 200


def test_failure_windows_end() -> None:
    clock = [0.0]
    counter = FailureCounter(2, 30.0, clock=lambda: clock[0])
    counter.record("a")
    assert counter.blocked_for("a") == 0.0
    counter.record("a")
    assert counter.blocked_for("a") == 30.0
    clock[0] = 29.0
    assert counter.blocked_for("a") == 1.0
    clock[0] = 30.0
    assert counter.blocked_for("a") == 0.0
    counter.record("a")  # a new window
    assert counter.blocked_for("a") == 0.0
