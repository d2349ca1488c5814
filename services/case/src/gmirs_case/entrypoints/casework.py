"""Case notes and tasks: the caseworkers' record of what happened and what is due.

Notes are append-only (a correction is a new note). A sensitive note's text is shown to the lead
provider and to hub callers holding the `sensitive-notes` role; others see that it exists, as
withheld. Every note read and write is audited with its purpose. Tasks carry no personal data:
`GET /tasks` is a worker's list over the caller's hub (every hub for the lead provider).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response, status

from gmirs_case.domain.casework import Note, Task, TaskAlreadyDoneError, TaskKind, today
from gmirs_case.entrypoints.access import SENSITIVE_NOTES, Now, Purpose, audit_case_access
from gmirs_case.entrypoints.deps import LEAD_PROVIDER, CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.people_schemas import (
    NoteCreate,
    NotePage,
    NoteRead,
    TaskCreate,
    TaskPage,
    TaskRead,
)
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.casework import (
    TaskNotFoundError,
    add_task,
    complete_task,
    visible_case,
    write_note,
)
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_contracts.case_people import WorkerUsername
from gmirs_runtime.auth import Principal
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(tags=["casework"])
_NOT_FOUND = "No such case."


def _sees_sensitive(principal: Principal) -> bool:
    return principal.has_any_role(LEAD_PROVIDER, SENSITIVE_NOTES)


def _note(note: Note, *, sees_sensitive: bool) -> NoteRead:
    shown = note.visible_to(sees_sensitive=sees_sensitive)
    return NoteRead(
        id=note.id,
        written_at=note.written_at,
        author_client=note.author_client,
        author_worker=note.author_worker,
        sensitive=note.sensitive,
        withheld=not shown,
        text=note.text if shown else None,
    )


@router.post(
    "/cases/{case_id}/notes",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 422),
)
async def post_note(
    case_id: uuid.UUID,
    body: NoteCreate,
    principal: CaseWorker,
    uow: UoW,
    why: Purpose,
    now: Now,
    response: Response,
) -> NoteRead:
    """Add a note to the case (append-only; audited)."""
    try:
        note = await write_note(
            uow,
            case_id,
            hub_scope(principal),
            author_client=principal.client_id,
            author_worker=body.worker,
            text=body.text,
            sensitive=body.sensitive,
            now=now,
        )
    except CaseNotFoundError:
        raise Problem(404, detail=_NOT_FOUND) from None
    await audit_case_access(uow.session, principal, "case-note.written", case_id, why)
    await uow.commit()
    response.headers["Location"] = f"/cases/{case_id}/notes"
    return _note(note, sees_sensitive=True)


@router.get("/cases/{case_id}/notes", responses=problem_responses(404, 422))
async def get_notes(
    case_id: uuid.UUID,
    principal: CaseWorker,
    uow: UoW,
    why: Purpose,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> NotePage:
    """The case's notes, oldest first; sensitive ones withheld unless the caller may read them."""
    try:
        await visible_case(uow, case_id, hub_scope(principal))
    except CaseNotFoundError:
        raise Problem(404, detail=_NOT_FOUND) from None
    notes, total = await uow.casework.notes(case_id, limit=limit, offset=offset)
    await audit_case_access(uow.session, principal, "case-notes.viewed", case_id, why)
    await uow.commit()
    sees = _sees_sensitive(principal)
    items = [_note(n, sees_sensitive=sees) for n in notes]
    return NotePage(items=items, total=total, limit=limit, offset=offset)


def _task(task: Task, now_overdue: bool) -> TaskRead:
    return TaskRead(
        id=task.id,
        case_id=task.case_id,
        hub_id=task.hub_id,
        kind=task.kind.value,
        due_on=task.due_on,
        worker=task.worker,
        created_at=task.created_at,
        created_by=task.created_by,
        done_at=task.done_at,
        state=task.state,
        overdue=now_overdue,
    )


@router.post(
    "/cases/{case_id}/tasks",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 422),
)
async def post_task(
    case_id: uuid.UUID, body: TaskCreate, principal: CaseWorker, uow: UoW, now: Now
) -> TaskRead:
    """Add a task with its due date (optionally for one worker)."""
    try:
        task = await add_task(
            uow,
            case_id,
            hub_scope(principal),
            kind=TaskKind(body.kind),
            due_on=body.due_on,
            worker=body.worker,
            by=principal.client_id,
            now=now,
        )
    except CaseNotFoundError:
        raise Problem(404, detail=_NOT_FOUND) from None
    await uow.commit()
    return _task(task, task.is_overdue(now))


@router.post("/cases/{case_id}/tasks/{task_id}/done", responses=problem_responses(404, 409))
async def post_task_done(
    case_id: uuid.UUID, task_id: uuid.UUID, principal: CaseWorker, uow: UoW, now: Now
) -> TaskRead:
    """Mark a task done (once: a second time is a 409 naming its state)."""
    try:
        task = await complete_task(
            uow, case_id, task_id, hub_scope(principal), by=principal.client_id, now=now
        )
    except CaseNotFoundError:
        raise Problem(404, detail=_NOT_FOUND) from None
    except TaskNotFoundError:
        raise Problem(404, detail="No such task on this case.") from None
    except TaskAlreadyDoneError as exc:
        raise Problem(409, detail=str(exc)) from None
    await uow.commit()
    return _task(task, False)


@router.get("/tasks", responses=problem_responses(422))
async def list_tasks(
    principal: CaseWorker,
    uow: UoW,
    now: Now,
    worker: Annotated[WorkerUsername | None, Query(description="Only this worker's.")] = None,
    overdue: Annotated[bool, Query(description="Only open tasks due before today.")] = False,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> TaskPage:
    """Tasks of the caller's hub (every hub for the lead provider), soonest due first."""
    tasks, total = await uow.casework.tasks(
        hub_id=hub_scope(principal),
        worker=worker,
        overdue_before=today(now) if overdue else None,
        limit=limit,
        offset=offset,
    )
    items = [_task(t, t.is_overdue(now)) for t in tasks]
    return TaskPage(items=items, total=total, limit=limit, offset=offset)
