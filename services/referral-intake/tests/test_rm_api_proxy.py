"""An egress proxy named in the environment carries every call to R&M and HMPPS Auth."""

from __future__ import annotations

import asyncio
import json

import pytest

from gmirs_referral_intake.adapters.rm_api import RmApi

TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 300}


async def _fake_proxy(seen: list[str]) -> asyncio.Server:
    """A forward proxy that answers itself: a token for the token endpoint, a JSON object otherwise."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
        await reader.readexactly(
            int(headers.get("Content-Length", headers.get("content-length", 0)))
        )
        seen.append(request_line)
        body = json.dumps(TOKEN if "/oauth/token" in request_line else {"ok": True}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_calls_go_through_the_proxy_the_environment_names(monkeypatch, variable) -> None:
    seen: list[str] = []
    proxy = await _fake_proxy(seen)
    port = proxy.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, f"http://127.0.0.1:{port}")
    api = RmApi(  # hosts that do not resolve: only the proxy can reach them
        api_url="http://rm.invalid",
        auth_url="http://auth.invalid",
        client_id="intake",
        client_secret="secret",
        timeout=5,
    )
    try:
        assert await api.get_json("/sent-referral/abc") == {"ok": True}
    finally:
        await api.aclose()
        proxy.close()
        await proxy.wait_closed()

    assert seen == [
        "POST http://auth.invalid/oauth/token HTTP/1.1",
        "GET http://rm.invalid/sent-referral/abc HTTP/1.1",
    ]
