"""Names of the per-group topics that sit beside a source topic.

Retry and dead-letter topics are per consumer group: when several groups read one topic, a
replay for one group must not be delivered again to the others.
"""

from __future__ import annotations

RETRY_SUFFIX = "retry"
DLT_SUFFIX = "dlt"


def retry_topic(topic: str, group: str) -> str:
    """Where replayed dead letters go: only `group` reads it."""
    return f"{topic}.{group}.{RETRY_SUFFIX}"


def dead_letter_topic(topic: str, group: str) -> str:
    return f"{topic}.{group}.{DLT_SUFFIX}"


def source_topic(topic: str, group: str) -> str:
    """The original topic for a record read from `topic` (itself, or the topic a retry topic serves)."""
    suffix = f".{group}.{RETRY_SUFFIX}"
    return topic[: -len(suffix)] if topic.endswith(suffix) else topic
