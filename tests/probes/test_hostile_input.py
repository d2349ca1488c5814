"""Hostile input on every operation the documents describe, sent by a role allowed to call it.

Random fuzzing rarely reaches these, so they are sent on purpose: integers beyond 64 bits in
every integer query parameter, a NUL in every string query parameter and, on every operation
that takes a body, one far beyond any limit, one with a NUL, one that is not JSON, one that is not
UTF-8 and one with duplicate keys. Each must get an answer the document lists for the operation,
never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.probes.matrix import ALLOWED, PUBLIC, SERVICE_NAMES, Probed, document

HUGE_BODY_BYTES = 8 * 1024 * 1024
BEYOND_64_BITS = str(2**64)


def _hostile_requests(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what, httpx keyword arguments) for each hostile request that fits the operation."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        kind = parameter.get("schema", {})
        types = {kind.get("type"), *(s.get("type") for s in kind.get("anyOf", []))}
        name = parameter["name"]
        if "integer" in types:
            yield f"{name}={BEYOND_64_BITS}", {"params": {name: BEYOND_64_BITS}}
            yield f"{name}=-{BEYOND_64_BITS}", {"params": {name: "-" + BEYOND_64_BITS}}
        if "string" in types:
            yield f"{name} with a NUL", {"params": {name: "a\x00b"}}
    if "requestBody" in operation:
        huge = b'{"x": "' + b"a" * HUGE_BODY_BYTES + b'"}'
        headers = {"Content-Type": "application/json"}
        yield f"a {HUGE_BODY_BYTES >> 20} MiB body", {"content": huge, "headers": headers}
        yield "a NUL in a JSON string", {"content": b'{"x": "a\\u0000b"}', "headers": headers}
        yield "a body that is not JSON", {"content": b'{"x": ', "headers": headers}
        yield "a body that is not UTF-8", {"content": b'{"x": "\xff\xfe"}', "headers": headers}
        yield "duplicate keys", {"content": b'{"x": 1, "x": 2}', "headers": headers}


def _allowed_role(service: str, method: str, path: str) -> str | None:
    allowed = ALLOWED[service][(method, path)]
    return None if allowed == PUBLIC else sorted(allowed)[0]


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_hostile_input_gets_a_documented_answer_never_a_5xx(
    probed: Probed, service: str
) -> None:
    wrong = []
    for path, operations in document(service)["paths"].items():
        for method, operation in operations.items():
            role = _allowed_role(service, method.upper(), path)
            token = probed.token(service, role) if role else None
            documented = set(operation["responses"])
            async with probed.client(service, token) as http:
                for what, request in _hostile_requests(operation):
                    response = await http.request(method, probed.path(path), **request)
                    status = response.status_code
                    if status >= 500 or str(status) not in documented:
                        wrong.append(
                            f"{method.upper()} {path} ({what}) as {role or 'anyone'}: "
                            f"{status} {response.text[:150]!r}"
                        )
    assert wrong == [], f"{service}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_an_undocumented_method_is_405_naming_every_documented_one(
    probed: Probed, service: str
) -> None:
    wrong = []
    async with probed.client(service, probed.token(service, "operator")) as http:
        for path, operations in document(service)["paths"].items():
            documented = {method.upper() for method in operations}
            method = next(m for m in ("PATCH", "DELETE", "PUT") if m not in documented)
            response = await http.request(method, probed.path(path))
            allow = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
            if response.status_code != 405 or allow != documented:
                wrong.append(f"{method} {path}: {response.status_code}, Allow {sorted(allow)}")
    assert wrong == [], f"{service} (documented methods per path differ):\n" + "\n".join(wrong)
