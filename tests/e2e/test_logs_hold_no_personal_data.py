"""After every other end-to-end test: no log of the platform holds personal data or a credential.

The logs are those the other tests already produced (every process of the stack and PostgreSQL's
server log), so this costs one read of them. conftest.py runs it after the last other e2e test.
What is searched for: every CRN, name and e-mail address the tests sent (tests/e2e/referrals.py
records them) or that reached the database (R&M referrals come from the simulator), every bearer
token the tests used, every other credential the platform handed them (survey links) and every
client secret of the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gmirs_stack.config import SERVICES
from tests.e2e.platform import Platform, database_rows
from tests.e2e.referrals import SENT_PERSONAL_DATA

pytestmark = pytest.mark.e2e

PERSONAL_KEYS = frozenset(
    {"crn", "given_name", "family_name", "first_name", "last_name", "forename", "surname", "email"}
)
SHORTEST_SEARCHED = 4  # shorter values ("Al") would match innocent text
OTHER_PROCESSES = ("tansu", "issuer", "moto", "rm-simulator", "probation-system")


def _personal_values(document: Any, parent: dict[str, Any] | None = None) -> Iterator[str]:
    """Values of personal fields anywhere in a stored referral (names beside an e-mail too)."""
    if isinstance(document, dict):
        for key, value in document.items():
            personal = key.casefold() in PERSONAL_KEYS or (key == "name" and "email" in document)
            if personal and isinstance(value, str):
                yield value
            yield from _personal_values(value, document)
    elif isinstance(document, list):
        for item in document:
            yield from _personal_values(item, parent)


async def _stored_personal_data(platform: Platform) -> set[str]:
    referrals = await database_rows(platform, "SELECT referral FROM intake.referrals")
    crns = await database_rows(platform, "SELECT crn FROM casework.cases")
    found = {value for (referral,) in referrals for value in _personal_values(referral)}
    return found | {crn for (crn,) in crns}


def _secrets(platform: Platform) -> set[str]:
    stack = platform.stack
    found = {client["client_secret"] for client in stack.clients} | {stack.rm_secret}
    found |= set(platform.tokens.values()) | platform.handed_secrets
    return found | ({stack.probation_secret} if stack.probation_secret else set())


def _logs(platform: Platform) -> dict[str, Path]:
    """Every log of the run, by name. Each process must have one; the services' and PostgreSQL's
    must hold something (a quiet fake may log nothing)."""
    logs = {path.stem: path for path in (platform.stack.root / "logs").glob("*.log")}
    logs["postgresql"] = platform.stack.postgres.log_path
    written = {spec.name for spec in SERVICES} | {"postgresql"}
    expected = written | set(OTHER_PROCESSES) | {f"{spec.name}-migrate" for spec in SERVICES}
    assert sorted(expected - {n for n, path in logs.items() if path.exists()}) == []
    assert sorted(n for n in written if not logs[n].stat().st_size) == [], "empty logs"
    return logs


async def test_no_personal_data_or_secrets_in_any_log(platform: Platform) -> None:
    personal = SENT_PERSONAL_DATA | await _stored_personal_data(platform)
    assert any(len(value) >= SHORTEST_SEARCHED for value in personal), "no personal data sent"
    searched = {
        **{value: "personal data" for value in personal if len(value) >= SHORTEST_SEARCHED},
        **dict.fromkeys(_secrets(platform), "credential"),
    }
    leaks = [
        f"{name}: {line}"
        for name, path in sorted(_logs(platform).items())
        for line in _lines_with(path.read_text(errors="replace"), searched)
    ]
    assert leaks == [], "\n".join(leaks)


def _lines_with(text: str, searched: dict[str, str]) -> list[str]:
    """A line for each searched value found (its first), every searched value in it masked."""
    lines = set()
    for value in searched:
        at = text.find(value)
        if at >= 0:
            lines.add(text[text.rfind("\n", 0, at) + 1 : text.find("\n", at)])
    masked = []
    for line in sorted(lines):
        for value, kind in searched.items():
            line = line.replace(value, f"<{kind}>")  # noqa: PLW2901 - masking in place
        masked.append(line[:300])
    return masked
