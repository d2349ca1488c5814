"""The floor for the caseload bench: a bare FastAPI app (run under uvicorn, like the service) that
answers each request with the same single SQL statement the case service runs, through asyncpg.

No authentication, validation, audit, unit of work or ORM: what is left is HTTP, JSON and the
query itself. `BARE_DATABASE_URL` is a plain postgresql:// URL; the schema is `casework`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
from fastapi import FastAPI, Request, Response

PAGE = (
    "SELECT id, referral_id, hub_id, probation_delivery_unit, reference_number, opened_at, state"
    " FROM cases WHERE hub_id = $1 ORDER BY opened_at DESC, id DESC LIMIT 51"
)
"""The service's first-page statement: the state is on `cases` since revision 0015."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BARE_DATABASE_URL"],
        min_size=10,
        max_size=10,
        server_settings={"search_path": "casework"},
    )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/cases")
async def first_page(hub: str, request: Request) -> Response:
    rows = await request.app.state.pool.fetch(PAGE, hub)
    items = [{**r, "id": str(r["id"]), "referral_id": str(r["referral_id"])} for r in rows[:50]]
    body = orjson.dumps({"items": items})
    return Response(body, media_type="application/json")
