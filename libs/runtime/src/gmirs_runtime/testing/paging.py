"""Hostile paging values: every bounded integer parameter must answer 422, never 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import httpx

HUGE_INTEGERS = (2**63 - 1, 2**63, 2**64, -1)
"""Past a signed 64-bit bigint, past an unsigned one, the largest bigint, and a negative."""

Request = Callable[[Mapping[str, int]], Awaitable[httpx.Response]]


async def assert_bounded(request: Request, *names: str) -> None:
    """Each of `names`, given each huge value, is refused as a 422 problem naming it."""
    for name in names:
        for value in HUGE_INTEGERS:
            response = await request({name: value})
            assert response.status_code == 422, (name, value, response.status_code)
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in problem["errors"]] == [f"query.{name}"], problem
