"""`Idempotency-Key` for any POST: a retried request replays the first answer instead of acting twice.

A router built with `route_class=IdempotentRoute` gives every POST route the `IdempotentPost`
dependency (a route of another unsafe method may add it to its `dependencies`; on GET, HEAD and
OPTIONS, already safe to retry, it does nothing). The key is claimed in the request's own
transaction (a row in `idempotency_keys`, unique per client id and key), so the write and its
claim commit or roll back together: a request that failed left no claim and may simply be
retried. A concurrent request with the same key waits on that row's lock, then finds it. Once the
route has answered, its status, body and `Location`/`ETag` are stored on the claim; the same key
and the same request (method, path, canonical JSON body) replays them, with
`Idempotent-Replayed: true`; the same key with another request is a 409. An answer marked
`Cache-Control: no-store` (it holds a secret, such as a single-use link) is not kept: its key then
answers 409 `idempotency-answer-withheld` (the write was done once; ask again with a new key).
A claim committed whose answer could not be stored (the process died between the two) is a 409
too: the write happened, its answer is lost. Keys live for `RETENTION`, then `purge_expired`
removes them (and an expired key may be used again).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request, Response, params
from fastapi.responses import JSONResponse
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    and_,
    delete,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_runtime.auth import AuthenticatedRoute, principal_of
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.deps import UnitOfWorkDep
from gmirs_runtime.problems import Problem, problem_responses, problem_type

RETENTION = timedelta(hours=24)
PURGE_BATCH = 1000
PURGE_ONE_IN = 64
"""Roughly one stored answer in this many also purges a batch of expired keys."""
REPLAYED_HEADERS = ("location", "etag")
HEADER = "Idempotency-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that are safe to retry as they are: a key sent with them is ignored."""
_STATE = "idempotency_claim"


def _columns() -> list[Any]:
    return [
        Column("client_id", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("fingerprint", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("status", Integer),
        Column("body", LargeBinary),
        Column("headers", JSONB),
        PrimaryKeyConstraint("client_id", "key", name="pk_idempotency_keys"),
    ]


idempotency_keys = Table("idempotency_keys", MetaData(), *_columns())


def create_idempotency_table(op: Any, schema: str) -> None:
    """Create the keys table in `schema` (call from a service migration)."""
    op.create_table("idempotency_keys", *_columns(), schema=schema)
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], schema=schema
    )


def drop_idempotency_table(op: Any, schema: str) -> None:
    op.drop_table("idempotency_keys", schema=schema)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=8,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Makes a retry safe: the same key and request replay the first answer "
        "(24 hours); the same key with another request is a 409.",
    ),
]


class _Replay(Problem):
    """The stored first answer, raised from the dependency so the route never runs again."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__(status)
        self._stored = (status, body, headers)

    def response(self) -> JSONResponse:
        status, body, headers = self._stored
        return _StoredJSON(body, status_code=status, headers=headers)


class _StoredJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


async def claim_idempotency_key(
    request: Request, uow: UnitOfWorkDep, key: IdempotencyKeyHeader = None
) -> None:
    """Claim `key` in the request's transaction, or answer with what the first request got."""
    if key is None or request.method in SAFE_METHODS:
        return
    client_id = principal_of(request).client_id
    fingerprint = await _fingerprint(request)
    claimed = await _claim(uow.session, client_id, key, fingerprint)
    if claimed:
        setattr(request.state, _STATE, (client_id, key))
        return
    row = (
        await uow.session.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key
            )
        )
    ).one()
    await uow.rollback()
    if row.fingerprint != fingerprint:
        raise Problem(
            409,
            type=problem_type("idempotency-key-reused"),
            detail="This Idempotency-Key was already used for a different request.",
        )
    if row.status is None:
        raise Problem(
            409,
            type=problem_type("idempotency-answer-lost"),
            detail="A request with this Idempotency-Key was carried out; its answer was lost.",
        )
    if row.body is None:
        raise Problem(
            409,
            type=problem_type("idempotency-answer-withheld"),
            detail="A request with this Idempotency-Key was carried out; its answer held a secret "
            "and was not kept. Ask again with a new key.",
        )
    headers = {**(row.headers or {}), "Idempotent-Replayed": "true"}
    raise _Replay(row.status, row.body, headers)


IdempotentPost = Depends(claim_idempotency_key)
"""The claim as a route dependency (`IdempotentRoute` adds it to every POST by itself)."""


async def _claim(session: AsyncSession, client_id: str, key: str, fingerprint: str) -> bool:
    """Insert the claim (or take over an expired one); False if a live claim exists."""
    statement = insert(idempotency_keys).values(
        client_id=client_id, key=key, fingerprint=fingerprint
    )
    expired = idempotency_keys.c.created_at < func.now() - RETENTION
    claim = statement.on_conflict_do_update(
        constraint="pk_idempotency_keys",
        set_={"fingerprint": fingerprint, "created_at": func.now(), "status": None, "body": None},
        where=expired,
    ).returning(text("1"))
    return (await session.execute(claim)).first() is not None


async def _fingerprint(request: Request) -> str:
    """The request's method, path and body (JSON compared by content, not spacing or key order)."""
    raw = await request.body()
    try:
        canonical = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
    except orjson.JSONDecodeError:
        canonical = raw
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


async def remember_answer(request: Request, response: Response) -> None:
    """Store the answer on the request's claim, if it claimed one and its write committed."""
    claim: tuple[str, str] | None = getattr(request.state, _STATE, None)
    if claim is None or response.status_code >= 500:
        return
    client_id, key = claim
    headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
    kept = None if _not_to_store(response) else bytes(response.body)
    factory: Callable[[], UnitOfWork] = request.app.state.unit_of_work
    async with factory() as uow:
        await uow.session.execute(
            update(idempotency_keys)
            .where(
                and_(
                    idempotency_keys.c.client_id == client_id,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.status.is_(None),
                )
            )
            .values(status=response.status_code, body=kept, headers=headers)
        )
        if random.randrange(PURGE_ONE_IN) == 0:
            await purge_expired(uow.session)
        await uow.commit()


def _not_to_store(response: Response) -> bool:
    directives = response.headers.get("cache-control", "").lower().split(",")
    return "no-store" in {d.strip() for d in directives}


async def purge_expired(session: AsyncSession, *, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` keys older than RETENTION; the number deleted."""
    oldest = (
        select(idempotency_keys.c.client_id, idempotency_keys.c.key)
        .where(idempotency_keys.c.created_at < func.now() - RETENTION)
        .limit(limit)
    )
    result = await session.execute(
        delete(idempotency_keys).where(
            tuple_(idempotency_keys.c.client_id, idempotency_keys.c.key).in_(oldest)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


Addition = tuple[params.Depends, tuple[int, ...]]
"""A dependency a route class gives a route, with the problem statuses it may answer."""


class IdempotentRoute(AuthenticatedRoute):
    """Every POST route claims its Idempotency-Key, and answers are stored on their claim.

    Subclasses give routes more dependencies by extending `additions` (theirs run after the
    claim, so a replay never reaches them); each is documented with the problems it may answer.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        additions = self.additions(path, methods, endpoint)
        kwargs["dependencies"] = with_dependencies(
            kwargs.get("dependencies"), [depends for depends, _ in additions]
        )
        statuses = sorted({status for _, problems in additions for status in problems})
        kwargs["responses"] = {**problem_responses(*statuses), **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    @classmethod
    def additions(
        cls, path: str, methods: set[str], endpoint: Callable[..., Any]
    ) -> list[Addition]:
        """What this route class gives a route of `methods` on `path`: the claim to a POST."""
        return [(IdempotentPost, (409, 422))] if "POST" in methods else []

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if "POST" not in (self.methods or ()):
            return handler  # nothing claimed, nothing to remember: no extra frame per request

        async def handle(request: Request) -> Response:
            response = await handler(request)
            await remember_answer(request, response)
            return response

        return handle


def with_dependencies(
    given: Sequence[params.Depends] | None, added: Sequence[params.Depends]
) -> list[params.Depends]:
    """`given` then each of `added` whose function is not among them already."""
    have = {d.dependency for d in given or ()}
    return [*(given or ()), *(d for d in added if d.dependency not in have)]
