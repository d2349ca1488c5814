"""The operators' quarantine and pending lists refuse limits past their bounds as 422 problems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from gmirs_runtime.testing.paging import assert_bounded


async def test_quarantine_and_pending_lists_are_bounded(rm_env: Any) -> None:
    async with rm_env() as env, env.ops() as ops:
        for path in ("/operator/quarantine", "/operator/pending"):

            async def listing(params: Mapping[str, int], path: str = path) -> httpx.Response:
                response: httpx.Response = await ops.get(path, params=params)
                return response

            await assert_bounded(listing, "limit")
