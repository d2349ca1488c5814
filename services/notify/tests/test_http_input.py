"""Hostile input on notify's real routes, and its operator paths."""

from __future__ import annotations

import uuid

from gmirs_runtime.testing.hostile import (
    assert_allow,
    assert_body_limit,
    assert_dead_letters_listed,
    assert_duplicate_key_refused,
    assert_nul_refused,
)

from .harness import AUDIENCE, OPERATOR, PROBATION_A, ROLES, Notify


async def test_hostile_input_is_refused_with_problems(notify: Notify) -> None:
    token = notify.issuer.mint(PROBATION_A, ROLES[PROBATION_A], AUDIENCE)
    notify.http.headers["Authorization"] = f"Bearer {token}"
    body = {"url": "https://example.org/hook", "description": "Bolton\x00"}
    await assert_body_limit(notify.http, "POST", "/subscriptions")
    await assert_nul_refused(notify.http, "POST", "/subscriptions", "body.description", json=body)
    await assert_duplicate_key_refused(
        notify.http, "POST", "/subscriptions", '{"url": "a", "url": "b"}', "body.url"
    )
    await assert_allow(notify.http, "PUT", f"/subscriptions/{uuid.uuid4()}", ["GET", "DELETE"])
    operator = notify.issuer.mint(OPERATOR, ROLES[OPERATOR], AUDIENCE)
    notify.http.headers["Authorization"] = f"Bearer {operator}"
    await assert_dead_letters_listed(notify.http)
