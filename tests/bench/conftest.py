"""Benchmarks print figures beside the raw floor measured in the same run; they assert nothing about speed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def report() -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    print("\n\n=== GMIRS Connect benchmarks (2 cores, embedded PostgreSQL, Tansu) ===")
    for line in lines:
        print(line)
