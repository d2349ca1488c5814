"""Case notes (append-only) and tasks with due dates, on a case the caller may see."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.casework import Note, Task, TaskAlreadyDoneError, TaskKind
from gmirs_case.domain.model import Case
from gmirs_case.handlers.locking import CaseNotFoundError


class TaskNotFoundError(LookupError):
    """No such task on that case."""


async def visible_case(uow: CaseUnitOfWork, case_id: uuid.UUID, hub_id: str | None) -> Case:
    """The case if the caller's hub scope covers it (another hub's case is not found)."""
    case = await uow.cases.get(case_id, hub_id=hub_id)
    if case is None:
        raise CaseNotFoundError(str(case_id))
    return case


async def write_note(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    hub_id: str | None,
    *,
    author_client: str,
    author_worker: str | None,
    text: str,
    sensitive: bool,
    now: datetime,
) -> Note:
    case = await visible_case(uow, case_id, hub_id)
    note = Note(uuid.uuid4(), case.id, now, author_client, author_worker, text, sensitive)
    await uow.casework.add_note(note)
    return note


async def add_task(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    hub_id: str | None,
    *,
    kind: TaskKind,
    due_on: date,
    worker: str | None,
    by: str,
    now: datetime,
) -> Task:
    case = await visible_case(uow, case_id, hub_id)
    task = Task(uuid.uuid4(), case.id, case.hub_id, kind, due_on, worker, now, by)
    await uow.casework.add_task(task)
    return task


async def complete_task(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    task_id: uuid.UUID,
    hub_id: str | None,
    *,
    by: str,
    now: datetime,
) -> Task:
    await visible_case(uow, case_id, hub_id)
    task = await uow.casework.task(case_id, task_id)
    if task is None:
        raise TaskNotFoundError(str(task_id))
    if task.done_at is not None:
        raise TaskAlreadyDoneError(f"the task is already {task.state}")
    await uow.casework.mark_done(task.id, at=now, by=by)
    return replace(task, done_at=now, done_by=by)
