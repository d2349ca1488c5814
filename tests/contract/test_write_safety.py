"""The case API documents its write safety on every write (read from the exported document).

Every POST takes an `Idempotency-Key` (and may answer 409); every write on a case (POST, PUT,
PATCH, DELETE with a {case_id} in its path, as `case_router` decides) takes an `If-Match` (and
may answer 412); a write beside a case (a group session, an evidence request) takes none; no GET
takes either. A new route built with `case_router` has them; one built otherwise fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gmirs_stack.openapi import target

WRITES = ("post", "put", "patch", "delete")
NOT_CASE_ROUTES = {("post", "/exit-survey/{token}")}
"""The public exit survey form: a browser form with a single-use link (see its module)."""
RUNTIME_ROUTES = "/operator/"
"""The operator routes every service shares (the runtime's; only case keeps idempotency keys)."""

Operation = tuple[str, str, dict[str, Any]]


def _operations() -> list[Operation]:
    paths = json.loads(target("case").read_text())["paths"]
    return [
        (method, path, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if not path.startswith(RUNTIME_ROUTES) and (method, path) not in NOT_CASE_ROUTES
    ]


def _headers(operation: dict[str, Any]) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}


def _ids(operations: list[Operation]) -> list[str]:
    return [f"{method.upper()} {path}" for method, path, _ in operations]


POSTS = [o for o in _operations() if o[0] == "post"]
WRITES_DONE = [o for o in _operations() if o[0] in WRITES]
CASE_WRITES = [o for o in WRITES_DONE if "{case_id}" in o[1]]
OTHER_WRITES = [o for o in WRITES_DONE if "{case_id}" not in o[1]]
READS = [o for o in _operations() if o[0] == "get"]


def test_the_case_api_has_the_writes_it_is_known_for() -> None:
    assert len(POSTS) >= 20
    case_posts = [o for o in CASE_WRITES if o[0] == "post"]
    assert len(CASE_WRITES) >= len(case_posts) + 3  # the PUTs and the PATCH
    assert {path.split("/")[1] for _, path, _ in OTHER_WRITES} == {
        "group-sessions",
        "evidence-requests",
    }


@pytest.mark.parametrize(("method", "path", "operation"), POSTS, ids=_ids(POSTS))
def test_every_post_documents_an_idempotency_key(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    assert "idempotency-key" in _headers(operation)
    assert "409" in operation["responses"]


@pytest.mark.parametrize(("method", "path", "operation"), CASE_WRITES, ids=_ids(CASE_WRITES))
def test_every_write_on_a_case_documents_if_match(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    assert "if-match" in _headers(operation)
    assert "412" in operation["responses"]


@pytest.mark.parametrize(("method", "path", "operation"), READS, ids=_ids(READS))
def test_no_read_takes_either(method: str, path: str, operation: dict[str, Any]) -> None:
    assert not _headers(operation) & {"idempotency-key", "if-match"}


@pytest.mark.parametrize(("method", "path", "operation"), OTHER_WRITES, ids=_ids(OTHER_WRITES))
def test_no_write_beside_a_case_takes_if_match(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    assert "if-match" not in _headers(operation)
    assert "412" not in operation["responses"]
