"""Bounds for every paging and position parameter a route accepts.

An unbounded integer reaches PostgreSQL (a bigint) or Kafka (an int64 offset, an int32
partition) and fails there as a 500; bounded here, a value outside the range is a 422 problem
naming the parameter. The bounds are documented in each route's OpenAPI parameters.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_PAGE_OFFSET = 1_000_000
"""The deepest `offset` a list accepts: past a million rows, narrow the query instead."""

MAX_KAFKA_PARTITION = 2**31 - 1
MAX_KAFKA_OFFSET = 2**63 - 1

PageOffset = Annotated[
    int,
    Query(ge=0, le=MAX_PAGE_OFFSET, description=f"Rows to skip, 0 to {MAX_PAGE_OFFSET}."),
]
KafkaPartition = Annotated[
    int, Path(ge=0, le=MAX_KAFKA_PARTITION, description="A Kafka partition (32-bit).")
]
KafkaOffset = Annotated[
    int, Path(ge=0, le=MAX_KAFKA_OFFSET, description="A Kafka offset (signed 64-bit).")
]


def page_limit(maximum: int) -> object:
    """The `limit` query parameter: 1 to `maximum` rows."""
    return Query(ge=1, le=maximum, description=f"Rows per page, 1 to {maximum}.")
