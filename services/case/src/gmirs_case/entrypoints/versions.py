"""Optimistic concurrency on a case: `ETag` from its version, `If-Match` on every write to it.

`GET /cases/{case_id}` answers an `ETag` (`"<version>"`). Every write on a case (the routes
`case_router` builds: POST, PUT, PATCH, DELETE on /cases/{case_id}/...) goes through
`guard_case_write` before its route runs: the case row is locked, a given `If-Match` must name
the current version (412 otherwise, naming the current ETag), and when the write commits the
version has moved on (by each statement that changed the case, else by one) and the answer
carries the new `ETag`. A case the caller may not see is
left to the route, which answers 404 as before (after a 422 for a bad request). Without
`If-Match` a write goes ahead as before, so existing clients keep working (If-Match is
recommended, not required: no 428). A route that reads `If-Match` itself is left to it: the
person's contact details (their own version) and attendance (`refuse_if_stale`, past the unit of
work). The guard's lock reads the case whole
(`CaseRepository.lock`), and the handler's own locked read takes it from there: one statement.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_runtime.problems import Problem, problem_type

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The case's ETag as last read: the write is refused (412) if it changed.",
    ),
]


def etag_of(version: int) -> str:
    return f'"{version}"'


def _matches(if_match: str, version: int) -> bool:
    wanted = {tag.strip() for tag in if_match.split(",")}
    return "*" in wanted or etag_of(version) in wanted


def refuse_if_stale(if_match: str | None, version: int) -> None:
    """412, naming the current ETag, if `If-Match` was given and names another version."""
    if if_match is not None and not _matches(if_match, version):
        raise Problem(
            412,
            type=problem_type("case-changed"),
            detail="The case changed since it was read; read it again and retry.",
            headers={"ETag": etag_of(version)},
            current_etag=etag_of(version),
        )


async def guard_case_write(
    request: Request,
    case_id: uuid.UUID,
    principal: CaseWorker,
    uow: UoW,
    response: Response,
    if_match: IfMatchHeader = None,
) -> None:
    """Lock the case for this write, refuse it if stale, and answer its new ETag on commit."""
    if request.method not in WRITE_METHODS:
        return
    version = await uow.cases.lock(case_id, hub_id=hub_scope(principal))
    if version is None:
        return  # not a case the caller may see: the route answers 404, after checking the request
    refuse_if_stale(if_match, version)

    async def advance() -> None:
        written = uow.cases.version_written(case_id)  # the write moved it itself: no UPDATE
        if written is None:
            written = await uow.caseload.advance_version(case_id, read=version)
        response.headers["ETag"] = etag_of(written)

    uow.before_commit(advance)


CaseWrite = Depends(guard_case_write)
"""The guard as a route dependency (`case_router`'s routes get it by themselves)."""
