"""The pack and the case extract from outside: metrics running on real PostgreSQL with its own
bootstrap, given hand-written figures through the `FiguresSource` seam; every role tried, every
file generated audited, and the CLI writing the same bytes the API serves."""

from __future__ import annotations

import csv
import functools
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import pytest_asyncio
from sqlalchemy import text

from gmirs_metrics.bootstrap import MIGRATIONS, build, openapi
from gmirs_metrics.domain.pack_extract import EXTRACT_HEADER
from gmirs_metrics.entrypoints.pack_cli import pack_command
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.testing.hostile import assert_allow, assert_nul_refused
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.services import RunningService, own_database, running_service

from .pack_figures import HandWrittenFigures

READERS = ("commissioner", "lead-provider", "operator")
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def metrics(
    postgres_server: EmbeddedPostgres, kafka_broker: Any, token_issuer: TestIssuer
) -> AsyncIterator[RunningService]:
    async with (
        own_database(postgres_server, "pack") as database_url,
        running_service(
            settings_class=MetricsSettings,
            build=functools.partial(build, figures=HandWrittenFigures()),
            migrations=MIGRATIONS,
            database_url=database_url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
            rate_limit_per_second=1000,
            rate_limit_burst=1000,
        ) as service,
    ):
        yield service


async def _audit(metrics: RunningService, resource_type: str) -> list[tuple[Any, ...]]:
    async with metrics.infra.unit_of_work() as uow:
        rows = await uow.session.execute(
            text(
                "SELECT actor, action, resource_id, reason FROM audit_log"
                " WHERE resource_type = :type ORDER BY id"
            ),
            {"type": resource_type},
        )
        return [tuple(row) for row in rows]


async def test_readers_get_each_format_byte_identical_and_each_is_audited(metrics) -> None:
    before = len(await _audit(metrics, "pack"))
    for role in READERS:
        async with metrics.as_client(f"probe-{role}", [role]) as http:
            for fmt, media_type in FORMATS.items():
                first = await http.get(f"/packs/2026-11.{fmt}")
                assert first.status_code == 200, first.text
                assert first.headers["content-type"] == media_type
                assert first.headers["content-disposition"] == (
                    f'attachment; filename="gmirs-pack-2026-11.{fmt}"'
                )
                assert first.headers["cache-control"] == "private, no-store"
                again = await http.get(f"/packs/2026-11.{fmt}")
                assert again.content == first.content
    audited = (await _audit(metrics, "pack"))[before:]
    assert len(audited) == len(READERS) * len(FORMATS) * 2
    assert audited[0] == (
        "probe-commissioner",
        "generate",
        "gmirs-pack-2026-11.xlsx",
        "GET /packs/2026-11.xlsx",
    )


async def test_hubs_and_strangers_get_no_pack_and_months_are_checked(metrics) -> None:
    before = len(await _audit(metrics, "pack"))
    async with metrics.as_client("hub-bury", ["hub"], {"hub_id": "bury"}) as http:
        for fmt in FORMATS:
            assert (await http.get(f"/packs/2026-11.{fmt}")).status_code == 403
    async with metrics.client(None) as http:
        assert (await http.get("/packs/2026-11.json")).status_code == 401
    async with metrics.as_client("probe-commissioner", ["commissioner"]) as http:
        for month in ("2026-13", "november", "2026-11-01", "2026-1", "0000-01"):
            bad = await http.get(f"/packs/{month}.json")
            assert bad.status_code == 422, month
            assert bad.headers["content-type"].startswith("application/problem+json")
        assert (await http.get("/packs/2026-11.pdf")).status_code == 404
        await assert_allow(http, "POST", "/packs/2026-11.xlsx", ["GET"])
        # The runtime's guard names a parameter that is a whole path segment; `{month}.json`
        # is not one, so the 422 names the path.
        await assert_nul_refused(http, "GET", "/packs/2026-11%00.json", "path")
        empty = await http.get("/packs/2027-01.json")
        assert empty.status_code == 200
        assert empty.json()["kpis"] == []
    assert len(await _audit(metrics, "pack")) == before + 1


async def _seed_cases(metrics: RunningService) -> dict[str, uuid.UUID]:
    """Three cases: two whose referral was sent in October 2026 (UK), one in September."""
    ids = {name: uuid.uuid4() for name in ("first", "late-night", "september")}
    sent = {
        "first": datetime(2026, 10, 14, 9, tzinfo=UTC),
        "late-night": datetime(2026, 9, 30, 23, 30, tzinfo=UTC),  # 00:30 on 1 October (BST)
        "september": datetime(2026, 9, 30, 22, 30, tzinfo=UTC),  # 23:30 on 30 September
    }
    closed = datetime(2026, 10, 20, 12, tzinfo=UTC)
    async with metrics.infra.unit_of_work() as uow:
        for name, case_id in ids.items():
            referral_id = uuid.uuid4()
            await uow.session.execute(
                text(
                    "INSERT INTO referral_facts (referral_id, source, hub_id,"
                    " probation_delivery_unit, sent_at, received_at, from_rm, complexity,"
                    " service_categories, gender, ethnicity, has_disability)"
                    " VALUES (:r, 'refer-and-monitor', 'bury', 'Bury', :sent, :sent, true,"
                    " 'high', ARRAY['accommodation'], 'female', 'Gypsy or Irish Traveller', true)"
                ),
                {"r": referral_id, "sent": sent[name]},
            )
            await uow.session.execute(
                text(
                    "INSERT INTO case_facts (case_id, referral_id, hub_id, referral_sent_at,"
                    " opened_at, closed_at, state, closure_reason, outcomes_achieved,"
                    " rm_withdrawal_code)"
                    " VALUES (:c, :r, 'bury', :sent, :sent, :closed,"
                    " 'closed', :reason, 2, 'RET')"
                ),
                {
                    "c": case_id,
                    "r": referral_id,
                    "sent": sent[name],
                    "closed": closed,
                    "reason": "=cmd|' /C calc'!A0",
                },
            )
        await uow.commit()
    return ids


async def test_the_commissioner_extract_holds_allowed_fields_only_and_is_audited(metrics) -> None:
    ids = await _seed_cases(metrics)
    async with metrics.as_client("probe-commissioner", ["commissioner"]) as http:
        response = await http.get("/extracts/cases.csv", params={"month": "2026-10"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="gmirs-cases-2026-10.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == EXTRACT_HEADER
    assert [r["case_id"] for r in rows] == [str(ids["late-night"]), str(ids["first"])]
    first = rows[1]
    assert first["referral_sent"] == "2026-10-14"
    assert first["hub_id"] == "bury"
    assert first["probation_delivery_unit"] == "Bury"
    assert first["closed"] == "2026-10-20"
    assert first["outcomes_achieved"] == "2"
    assert first["closure_reason"] == "'=cmd|' /C calc'!A0"  # never run as a formula
    body = response.content.decode("utf-8-sig")
    for kept_out in ("female", "Traveller", "high", "accommodation", "RET"):
        assert kept_out not in body
    audited = (await _audit(metrics, "case-extract"))[-1]
    assert audited == (
        "probe-commissioner",
        "extract",
        "gmirs-cases-2026-10.csv",
        "GET /extracts/cases.csv?month=2026-10 (2 cases)",
    )


async def test_only_the_commissioner_may_extract_cases(metrics) -> None:
    before = await _audit(metrics, "case-extract")
    for role in ("lead-provider", "operator", "probation-system"):
        async with metrics.as_client(f"probe-{role}", [role]) as http:
            response = await http.get("/extracts/cases.csv", params={"month": "2026-10"})
            assert response.status_code == 403, role
    async with metrics.as_client("hub-bury", ["hub"], {"hub_id": "bury"}) as http:
        assert (await http.get("/extracts/cases.csv?month=2026-10")).status_code == 403
    async with metrics.as_client("probe-commissioner", ["commissioner"]) as http:
        assert (await http.get("/extracts/cases.csv?month=2026-10%00")).status_code == 422
        assert (await http.get("/extracts/cases.csv")).status_code == 422
    assert await _audit(metrics, "case-extract") == before


async def test_the_cli_writes_the_files_the_api_serves_and_audits_them(
    metrics, tmp_path: Path
) -> None:
    command = ServiceCommand(
        name="metrics",
        load_settings=lambda: metrics.infra.settings,
        build=functools.partial(build, figures=HandWrittenFigures()),
        migrations=MIGRATIONS,
        openapi=openapi,
        extra={"pack": pack_command(functools.partial(build, figures=HandWrittenFigures()))},
    )
    argv = ["pack", "--month", "2026-11", "--out", str(tmp_path / "out")]
    before = len(await _audit(metrics, "pack"))
    assert await _in_thread(run_cli, command, argv) == 0
    async with metrics.as_client("probe-operator", ["operator"]) as http:
        for fmt in FORMATS:
            served = (await http.get(f"/packs/2026-11.{fmt}")).content
            assert (tmp_path / "out" / f"gmirs-pack-2026-11.{fmt}").read_bytes() == served
    audited = (await _audit(metrics, "pack"))[before:]
    assert [a[1:3] for a in audited[:3]] == [
        ("generate", f"gmirs-pack-2026-11.{fmt}") for fmt in FORMATS
    ]
    assert audited[0][0].startswith("cli:")


async def test_by_default_the_cli_builds_the_pack_from_the_services_read_models(
    metrics, tmp_path: Path
) -> None:
    command = ServiceCommand(
        name="metrics",
        load_settings=lambda: metrics.infra.settings,
        build=build,
        migrations=MIGRATIONS,
        openapi=openapi,
        extra={"pack": pack_command(build)},
    )
    argv = ["pack", "--month", "2026-11", "--out", str(tmp_path)]
    assert await _in_thread(run_cli, command, argv) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"gmirs-pack-2026-11.{fmt}" for fmt in sorted(FORMATS)]
    workbook = openpyxl.load_workbook(tmp_path / "gmirs-pack-2026-11.xlsx")
    assert "Summary" in workbook.sheetnames
    with pytest.raises(SystemExit):
        await _in_thread(run_cli, command, ["pack", "--month", "2026-13", "--out", "x"])


async def _in_thread(function: Any, *args: Any) -> Any:
    """The CLI runs its own event loop (asyncio.run), so not on the test's."""
    import asyncio

    return await asyncio.to_thread(function, *args)
