"""R&M's feedback API, called on behalf of the hub worker who recorded the non-attendance.

R&M maps every feedback call to a user, so a bare client-credentials token is refused (403). HMPPS
Auth issues a trusted client a token for a named user: the client-credentials grant with a
`username` form field. Tokens are kept per username until shortly before they expire; a 401
(revoked early) gets one fresh token and one retry. Every answer is returned as it came (status
and JSON body) for the worker to judge; only an unreachable R&M or HMPPS Auth raises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

TOKEN_LEEWAY_SECONDS = 30


class RmUnreachableError(Exception):
    """R&M or HMPPS Auth could not be reached, or answered the token request with an error."""


@dataclass(frozen=True, slots=True)
class RmAnswer:
    status: int
    body: dict[str, Any] | None

    @property
    def reason(self) -> str:
        """R&M's message and field errors, for a person to fix (no personal data in them)."""
        if not self.body:
            return f"R&M answered {self.status}"
        fields = self.body.get("validationErrors") or []
        named = ", ".join(
            f"{f.get('field')}: {f.get('error')}" for f in fields if isinstance(f, dict)
        )
        message = str(self.body.get("message") or self.body.get("error") or "")
        return f"{self.status} {message}" + (f" ({named})" if named else "")


class RmFeedbackClient:
    """A client of one R&M API; call `aclose()` when done."""

    def __init__(
        self,
        *,
        api_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._token_url = auth_url.rstrip("/") + "/oauth/token"
        self._credentials = (client_id, client_secret)
        self._http = httpx.AsyncClient(timeout=timeout, headers={"Accept": "application/json"})
        self._tokens: dict[str, tuple[str, float]] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self, method: str, path: str, *, username: str, body: dict[str, Any] | None = None
    ) -> RmAnswer:
        """One call as `username`; RmUnreachableError when no answer came."""
        answer = await self._send(method, path, username, body)
        if answer.status == 401:
            self._tokens.pop(username, None)
            answer = await self._send(method, path, username, body)
        return answer

    async def _send(
        self, method: str, path: str, username: str, body: dict[str, Any] | None
    ) -> RmAnswer:
        token = await self._token(username)
        try:
            response = await self._http.request(
                method,
                self._api_url + path,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise RmUnreachableError(f"R&M unreachable: {type(exc).__name__}") from None
        return RmAnswer(response.status_code, _json_object(response))

    async def _token(self, username: str) -> str:
        cached = self._tokens.get(username)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        form = {"grant_type": "client_credentials", "username": username}
        try:
            response = await self._http.post(self._token_url, data=form, auth=self._credentials)
        except httpx.HTTPError as exc:
            raise RmUnreachableError(f"HMPPS Auth unreachable: {type(exc).__name__}") from None
        token = _json_object(response) or {}
        if response.status_code != 200 or "access_token" not in token:
            raise RmUnreachableError(f"HMPPS Auth token: {response.status_code}")
        lifetime = max(float(token.get("expires_in", 60)) - TOKEN_LEEWAY_SECONDS, 1.0)
        self._tokens[username] = (str(token["access_token"]), time.monotonic() + lifetime)
        return str(token["access_token"])


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
