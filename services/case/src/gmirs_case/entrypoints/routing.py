"""`case_router`: the one way to build a router of the case API, with its write safety built in.

Every route of such a router requires a token (it is an `authenticated_router`), and by its
method and path it also gets:

- every POST: `Idempotency-Key` (`gmirs_runtime.idempotency`): the same key and request replay
  the first answer, the same key with another request is a 409;
- every write (POST, PUT, PATCH, DELETE) with {case_id} in its path: the case guard
  (`versions.guard_case_write`): an optional `If-Match` (412 when stale), the case locked for the
  write, and the case's new `ETag` on the answer.

GET routes get neither. Routes need no parameter of their own for this: a new router is
`router = case_router(prefix=..., tags=[...])` and its writes are safe. A route that reads
`If-Match` itself (a resource with its own version, the person's contact details) keeps it and
gets no case guard. The public exit survey form is not a case router: a browser form sends no
headers of ours, and its single-use link and form nonce already make a second submission a 410.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant

from gmirs_case.entrypoints.versions import WRITE_METHODS, CaseWrite
from gmirs_runtime.auth import authenticated_router
from gmirs_runtime.idempotency import Addition, IdempotentRoute

CASE_PATH = "{case_id}"


class CaseRoute(IdempotentRoute):
    """An idempotent route that also guards each write on a case (see module docstring)."""

    @classmethod
    def additions(
        cls, path: str, methods: set[str], endpoint: Callable[..., Any]
    ) -> list[Addition]:
        added = super().additions(path, methods, endpoint)
        writes_a_case = CASE_PATH in path and bool(methods & WRITE_METHODS)
        if writes_a_case and not reads_if_match(path, endpoint):
            added.append((CaseWrite, (404, 412)))
        return added


def reads_if_match(path: str, endpoint: Callable[..., Any]) -> bool:
    """Whether the route takes an `If-Match` header of its own (anywhere in its dependencies)."""
    return _takes_if_match(get_dependant(path=path, call=endpoint))


def _takes_if_match(dependant: Dependant) -> bool:
    headers = (field.alias.replace("_", "-").lower() for field in dependant.header_params)
    return "if-match" in headers or any(_takes_if_match(d) for d in dependant.dependencies)


def case_router(**kwargs: Any) -> APIRouter:
    """An `authenticated_router` of `CaseRoute`s: takes its arguments (prefix, tags, ...)."""
    return authenticated_router(route_class=CaseRoute, **kwargs)
