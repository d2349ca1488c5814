"""Schemathesis against every operation of every service, with a real token for every allowed role.

Inputs come from the exported OpenAPI documents, valid and invalid, a few per operation,
derandomized so every run sends the same requests. Any 5xx, any status the document does not list
for the operation, any body, content type or header that does not match it fails, and so does
a 2xx that would also be given without the token (schemathesis's `ignored_auth`). Invalid input
being accepted is not checked: FastAPI ignores unknown query parameters by design, and the
tokens sent here replace the missing Authorization header schemathesis sometimes generates. Ids in paths are made up, and also the seeded ones, so the probes
reach both the "not found" and the real resource behind each route.

Hypothesis drives blocking calls, so it runs in a worker thread while the services serve on the
test's event loop. Every failure of every operation is collected before the test fails, so one
run reports the whole picture.
"""

from __future__ import annotations

import asyncio
import random
import sys
import traceback
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.probes.matrix import ALLOWED, HUB_A, PUBLIC, SERVICE_NAMES, Probed, document

EXAMPLES_PER_MODE = 4  # per operation, role and mode: about 400 requests over the four services
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_MODE,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking: bounded time
    suppress_health_check=list(hypothesis.HealthCheck),
)


class _PrivateRandom(random.Random):
    """A PRNG only schemathesis draws from: the services in this process draw from the global
    one (Kafka client, uvicorn, retry jitter) at moments that vary, which would make generated
    cases vary between runs. Hypothesis seeds it per example, as it seeds the global one."""

    Random = random.Random


_SCHEMATHESIS_RANDOM = _PrivateRandom()
hypothesis.register_random(_SCHEMATHESIS_RANDOM)


@pytest.fixture
def reproducible_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every schemathesis module that uses the global `random` at the private PRNG."""
    for name, module in list(sys.modules.items()):
        if name.startswith("schemathesis") and getattr(module, "random", None) is random:
            monkeypatch.setattr(module, "random", _SCHEMATHESIS_RANDOM)


def _real_ids(probed: Probed) -> dict[str, str]:
    seeded = probed.seeded
    return {
        "case_id": seeded.cases[HUB_A],
        "appointment_id": seeded.appointments[HUB_A],
        "subscription_id": seeded.subscription,
        "consent_id": seeded.consents[HUB_A],
    }


def _strategy(
    operation: APIOperation[Any, Any, Any, Any], real_ids: dict[str, str]
) -> st.SearchStrategy[Case[Any]]:
    """Valid and invalid requests; those with ids in the path also aimed at the seeded ones."""
    names = {p.name for p in operation.path_parameters}
    known = {name: value for name, value in real_ids.items() if name in names}
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    if known and len(known) == len(names):
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    return st.one_of(strategies)


def _fuzz(
    operation: APIOperation[Any, Any, Any, Any],
    base_url: str,
    token: str | None,
    ids: dict[str, str],
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with requests.Session() as session:

        @FUZZ_SETTINGS
        @hypothesis.given(case=_strategy(operation, ids))
        def probe(case: Case[Any]) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=15)
            case.validate_response(response, checks=CHECKS, headers=headers)

        probe()


def _callers(probed: Probed, service: str, method: str, path: str) -> list[tuple[str, str | None]]:
    allowed = ALLOWED[service][(method, path)]
    if allowed == PUBLIC:
        return [("anyone", None)]
    return [(role, probed.token(service, role)) for role in sorted(allowed)]


def _fuzz_service(probed: Probed, service: str) -> list[str]:
    schema = schemathesis.openapi.from_dict(document(service))
    base_url, ids = probed.services[service].base_url, _real_ids(probed)
    failures = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"{service}: the document has an invalid operation"
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        for role, token in _callers(probed, service, method, path):
            try:
                _fuzz(operation, base_url, token, ids)
            # Schemathesis raises a BaseExceptionGroup of its check failures; report every one.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{method} {path} as {role}: {_summary(exc)}")
    return failures


# The services share this process, and their own use of `random` (retry jitter, Kafka client)
# on the event loop's thread looks to Hypothesis like a strategy drawing from `random`.
def _summary(exc: BaseException) -> str:
    """Each distinct failure in a line or two, the response it got and the curl to reproduce it."""
    if not isinstance(exc, BaseExceptionGroup):
        return "".join(traceback.format_exception_only(exc)).strip()[:1500]
    found = [
        f"{getattr(e, 'code', '')} {getattr(e, 'title', type(e).__name__)}: "
        + " ".join(str(getattr(e, "message", e)).split())[:200]
        for e in exc.exceptions
    ]
    lines = [line.strip() for line in str(exc).splitlines()]
    evidence = [line[:300] for line in lines if line.startswith(("curl ", "`{", "["))]
    return "\n    ".join(["", *found, *evidence])


@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
@pytest.mark.timeout(240)
@pytest.mark.usefixtures("reproducible_generation")
@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_fuzzed_requests_get_documented_answers(probed: Probed, service: str) -> None:
    failures: list[Any] = await asyncio.to_thread(_fuzz_service, probed, service)
    assert failures == [], f"{len(failures)} failing operation(s) on {service}:\n\n" + (
        "\n\n".join(failures)
    )
