"""Case notes and tasks: pure rules (who may read a sensitive note, when a task is overdue)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

SERVICE_ZONE = ZoneInfo("Europe/London")
"""Due dates are Greater Manchester calendar days."""


class TaskKind(StrEnum):
    NEXT_CONTACT = "next-contact"
    REVIEW = "review"
    EXIT_SURVEY = "exit-survey"
    OTHER = "other"


class TaskAlreadyDoneError(Exception):
    """A task is done once; marking it again is refused (409 naming its state)."""


@dataclass(frozen=True, slots=True)
class Note:
    """An append-only case note: a correction is a new note."""

    id: uuid.UUID
    case_id: uuid.UUID
    written_at: datetime
    author_client: str
    author_worker: str | None
    text: str
    sensitive: bool

    def visible_to(self, *, sees_sensitive: bool) -> bool:
        return not self.sensitive or sees_sensitive


@dataclass(frozen=True, slots=True)
class Task:
    id: uuid.UUID
    case_id: uuid.UUID
    hub_id: str
    kind: TaskKind
    due_on: date
    worker: str | None
    created_at: datetime
    created_by: str
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def state(self) -> str:
        return "done" if self.done_at else "open"

    def is_overdue(self, now: datetime) -> bool:
        """Not done and due before today (in Greater Manchester)."""
        return self.done_at is None and self.due_on < today(now)


def today(now: datetime) -> date:
    return now.astimezone(SERVICE_ZONE).date()
