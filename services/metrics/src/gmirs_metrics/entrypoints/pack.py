"""The monthly pack over HTTP: `GET /packs/{month}.xlsx`, `.csv` and `.json`, for the
commissioners, the lead provider and operators. Aggregates only (breakdowns suppressed); every
file generated is audited (adapters/pack_files.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from gmirs_metrics.adapters import pack_csv, pack_json, pack_xlsx
from gmirs_metrics.adapters.pack_files import Format, Packs
from gmirs_metrics.domain.periods import parse_month
from gmirs_runtime.auth import authenticated_router, principal_of
from gmirs_runtime.problems import problem_responses

READERS = ("commissioner", "lead-provider", "operator")
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
"""A month of this century (the fuzzer found year 0)."""
router = authenticated_router(prefix="/packs", tags=["packs"], roles=READERS)
Month = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-11"])]


def packs_of(request: Request) -> Packs:
    """The app's pack maker (bootstrap wires it to the service's figures source)."""
    packs: Packs = request.app.state.packs
    return packs


def audit_reason(request: Request) -> str:
    """What was asked for, as the audit row's reason (the route and its query)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.method} {request.url.path}{query}"


async def _pack(request: Request, month: str, fmt: Format) -> Response:
    packs = packs_of(request)
    principal = principal_of(request)
    (file,) = await packs.make(
        parse_month(month), (fmt,), actor=principal.client_id, reason=audit_reason(request)
    )
    return Response(
        file.content,
        media_type=file.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _file(media_type: str, description: str) -> dict[int | str, dict[str, object]]:
    return {
        200: {"description": description, "content": {media_type: {}}},
        **problem_responses(422),
    }


@router.get(
    "/{month}.xlsx",
    response_class=Response,
    responses=_file(pack_xlsx.MEDIA_TYPE, "The pack as a workbook: a sheet per area."),
)
async def pack_as_xlsx(request: Request, month: Month) -> Response:
    """The month's pack as XLSX, formatted to read and print; byte-identical for the same
    events."""
    return await _pack(request, month, "xlsx")


@router.get(
    "/{month}.csv",
    response_class=Response,
    responses=_file(pack_csv.MEDIA_TYPE, "One line per table cell: sheet, row, column, value."),
)
async def pack_as_csv(request: Request, month: Month) -> Response:
    """The month's pack as one long CSV file (sheet, row, column, value)."""
    return await _pack(request, month, "csv")


@router.get(
    "/{month}.json",
    response_class=Response,
    responses=_file(pack_json.MEDIA_TYPE, "The month's figures, breakdowns suppressed."),
)
async def pack_as_json(request: Request, month: Month) -> Response:
    """The month's figures as JSON, each breakdown suppressed (`"*"`)."""
    return await _pack(request, month, "json")
