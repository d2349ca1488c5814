"""Optimistic concurrency on a case: `ETag` from its version, `If-Match` on the writes that change it.

`GET /cases/{case_id}` answers an `ETag` (`"<version>"`; the version goes up with every change
to the case). A write given `If-Match` goes ahead only if the case is still at that version
(412 otherwise, naming the current ETag); without `If-Match` it goes ahead as before, so existing
clients keep working (If-Match is recommended, not required: no 428). A route adopts it with one
parameter, `_if_match: CaseIfMatch`; the check locks the case row, so nothing changes it between the
check and the write.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Response

from gmirs_case.entrypoints.case_problems import no_such_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_runtime.problems import Problem, problem_type

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


async def check_if_match(
    case_id: uuid.UUID, principal: CaseWorker, uow: UoW, if_match: IfMatchHeader = None
) -> None:
    """Refuse the write (412) if the case changed since the ETag in `If-Match` was read."""
    if if_match is None:
        return
    version = await uow.caseload.version(case_id, hub_id=hub_scope(principal), lock=True)
    if version is None:
        raise no_such_case()
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" in wanted or etag_of(version) in wanted:
        return
    raise Problem(
        412,
        type=problem_type("case-changed"),
        detail="The case changed since it was read; read it again and retry.",
        headers={"ETag": etag_of(version)},
        current_etag=etag_of(version),
    )


CaseIfMatch = Annotated[None, Depends(check_if_match)]
"""Add `_if_match: CaseIfMatch` to a route on /cases/{case_id}/... that changes the case."""


async def set_case_etag(
    response: Response, uow: UoW, case_id: uuid.UUID, hub_id: str | None
) -> None:
    """Put the case's current version (as this transaction sees it) in the `ETag` header."""
    version = await uow.caseload.version(case_id, hub_id=hub_id, lock=False)
    if version is not None:
        response.headers["ETag"] = etag_of(version)
