"""The committed OpenAPI documents are exactly what the services serve."""

from __future__ import annotations

import json

import pytest

from gmirs_stack.config import SERVICES
from gmirs_stack.openapi import exported, target


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_committed_openapi_matches_the_service(spec) -> None:
    committed = target(spec.name)
    assert committed.exists(), f"{committed} is missing: run `uv run python -m gmirs_stack.openapi`"
    assert committed.read_text() == exported(spec.module), (
        f"{committed.name} drifted from the service: run `uv run python -m gmirs_stack.openapi`"
    )


# Probes, and SNS deliveries, which cannot carry a token: their SNS signature is checked instead.
# The exit survey's pages are for a person with a single-use link (the token in the path).
PUBLIC = {
    "/health",
    "/ready",
    "/rm/sns",
    "/exit-survey/{token}",
    "/exit-survey/static/survey.css",
}


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_operation_requires_a_token_except_probes(spec) -> None:
    document = json.loads(target(spec.name).read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in PUBLIC:
                continue
            assert operation.get("security"), f"{method.upper()} {path} is not authenticated"
            assert "401" in operation["responses"], f"{method.upper()} {path} documents no 401"
