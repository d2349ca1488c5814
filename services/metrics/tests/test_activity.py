"""The provider's activity figures through the real API: who may enter what, idempotent PUTs,
audited changes, hostile values refused as problems, and the dashboard showing what was entered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from services.metrics.tests.dash_facts import Clock, dash_service
from sqlalchemy import text

from gmirs_runtime.problems import PROBLEM_MEDIA_TYPE
from gmirs_runtime.testing.hostile import assert_duplicate_key_refused, assert_nul_refused
from gmirs_runtime.testing.services import RunningService

CLOCK = Clock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
NOVEMBER = "/activity/2026-11"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def metrics(postgres_server, kafka_broker, token_issuer) -> AsyncIterator[RunningService]:
    async for service in dash_service(postgres_server, kafka_broker, token_issuer, CLOCK):
        yield service


def lead(service: RunningService) -> Any:
    return service.as_client("lead-provider-ann", ["lead-provider"])


def hub(service: RunningService, name: str) -> Any:
    return service.as_client(f"hub-{name}", ["hub"], {"hub_id": name})


async def audited(service: RunningService, resource: str) -> list[str]:
    """The actors of the audit rows about one figure."""
    async with service.infra.unit_of_work() as uow:
        rows = await uow.session.execute(
            text("SELECT actor FROM audit_log WHERE resource_id = :r ORDER BY id"), {"r": resource}
        )
        return [actor for (actor,) in rows]


async def test_the_lead_provider_enters_any_hubs_figure_once_however_often_it_is_sent(
    metrics,
) -> None:
    async with lead(metrics) as http:
        for _ in range(3):
            put = await http.put(f"{NOVEMBER}/bury/volunteers", json={"value": 12})
            assert put.status_code == 200, put.text
        assert put.json()["value"] == "12"
        assert put.json()["indicator"] == "A12"
        changed = await http.put(f"{NOVEMBER}/bury/volunteers", json={"value": 14})
        assert changed.json()["value"] == "14"
        mine = await http.put(f"{NOVEMBER}/lead-provider/spend", json={"value": "1250.50"})
        assert mine.status_code == 200, mine.text
    assert await audited(metrics, "2026-11/bury/volunteers") == ["lead-provider-ann"] * 2
    async with metrics.as_client("commissioner-cat", ["commissioner"]) as http:
        listed = (await http.get("/activity", params={"month": "2026-11"})).json()
    figures = {(f["hub_id"], f["measure"]): f["value"] for f in listed["figures"]}
    assert figures[("bury", "volunteers")] == "14"
    assert figures[("lead-provider", "spend")] == "1250.50"


async def test_a_hub_enters_and_reads_its_own_figures_only(metrics) -> None:
    async with hub(metrics, "oldham") as http:
        own = await http.put(f"{NOVEMBER}/oldham/development-hours", json={"value": 7.5})
        assert own.status_code == 200, own.text
        other = await http.put(f"{NOVEMBER}/rochdale/development-hours", json={"value": 7.5})
        assert other.status_code == 403
        lead_figure = await http.put(f"{NOVEMBER}/lead-provider/budget", json={"value": 1})
        assert lead_figure.status_code == 403
        listed = (await http.get("/activity", params={"month": "2026-11"})).json()["figures"]
    assert {f["hub_id"] for f in listed} == {"oldham"}
    async with lead(metrics) as http:
        rochdale = (await http.get("/activity", params={"month": "2026-11"})).json()["figures"]
    assert ("rochdale", "development-hours") not in {(f["hub_id"], f["measure"]) for f in rochdale}


@pytest.mark.parametrize("role", ["commissioner", "operator", "probation-system"])
async def test_other_roles_cannot_enter_figures(metrics, role: str) -> None:
    async with metrics.as_client(f"probe-{role}", [role]) as http:
        put = await http.put(f"{NOVEMBER}/bury/volunteers", json={"value": 1})
    assert put.status_code == 403


async def _refused(http: Any, path: str, body: Any, field: str) -> None:
    response = await http.put(path, json=body)
    assert response.status_code == 422, (path, body, response.text)
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert field in {e["field"] for e in response.json()["errors"]}, response.text


async def test_values_outside_a_measures_bounds_are_refused(metrics) -> None:
    volunteers = f"{NOVEMBER}/bury/volunteers"
    async with lead(metrics) as http:
        for value in (2**64, -(2**63), -1, 100_001, 1.5, "1e400", "NaN", "Infinity", "x"):
            await _refused(http, volunteers, {"value": value}, "body.value")
        for raw in (b'{"value": 1e400}', b'{"value": NaN}', b'{"value": 18446744073709551616}'):
            response = await http.put(
                volunteers, content=raw, headers={"content-type": "application/json"}
            )
            assert response.status_code == 422, (raw, response.text)
        await _refused(http, f"{NOVEMBER}/bury/spend", {"value": "12.345"}, "body.value")
        await _refused(http, f"{NOVEMBER}/bury/spend", {"value": 10**12}, "body.value")
        await _refused(http, volunteers, {"value": 1, "extra": 2}, "body.extra")
        await _refused(http, volunteers, {}, "body.value")
        await _refused(http, f"{NOVEMBER}/bury/smiles", {"value": 1}, "path.measure")
        await _refused(http, f"{NOVEMBER}/atlantis/volunteers", {"value": 1}, "path.hub_id")
        await _refused(http, "/activity/2026-13/bury/volunteers", {"value": 1}, "path.month")
        await _refused(http, "/activity/2027-01/bury/volunteers", {"value": 1}, "path.month")
        await _refused(http, "/activity/0000-01/bury/volunteers", {"value": 1}, "path.month")
        await assert_nul_refused(http, "PUT", f"{NOVEMBER}/bury/volunteers%00", "path.measure")
        await assert_duplicate_key_refused(
            http, "PUT", volunteers, '{"value": 1, "value": 2}', "body.value"
        )
        nul = await http.get("/activity", params={"month": "2026-11\x00"})
        assert nul.status_code == 422
    assert await audited(metrics, "2026-11/bury/spend") == []


async def test_many_writes_on_one_connection_keep_the_last_value(metrics) -> None:
    async with hub(metrics, "wigan") as http:
        for n in range(40):
            put = await http.put(f"{NOVEMBER}/wigan/staff-trained", json={"value": n % 4})
            assert put.status_code == 200, put.text
        listed = (await http.get("/activity", params={"month": "2026-11"})).json()["figures"]
    assert [f["value"] for f in listed if f["measure"] == "staff-trained"] == ["3"]
    assert len(await audited(metrics, "2026-11/wigan/staff-trained")) == 40  # each a change


async def test_the_dashboard_shows_the_entered_activity_to_commissioners_only(metrics) -> None:
    async with lead(metrics) as http:
        await http.put(f"{NOVEMBER}/lead-provider/budget", json={"value": 2501})
    async with metrics.as_client("commissioner-cat", ["commissioner"]) as http:
        page = await http.get("/dashboard")  # the last complete month: November 2026
        css = await http.get("/dashboard/static/dashboard.css")
        future = await http.get("/dashboard", params={"month": "2026-12"})
        too_late = await http.get("/dashboard", params={"month": "2027-01"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "Performance dashboard" in page.text
    assert "November 2026" in page.text
    assert "Spend is 50% of budget." in page.text  # 1,250.50 of 2,501
    assert "Volunteers supporting delivery" in page.text
    assert css.headers["content-type"].startswith("text/css")
    assert future.status_code == too_late.status_code == 422
    assert [e["field"] for e in future.json()["errors"]] == ["query.month"]  # where it was given
    assert [e["field"] for e in too_late.json()["errors"]] == ["query.month"]
    for name, roles in (("hub-bury", ["hub"]), ("ops", ["operator"])):
        claims = {"hub_id": "bury"} if roles == ["hub"] else None
        async with metrics.as_client(name, roles, claims) as http:
            assert (await http.get("/dashboard")).status_code == 403
    async with metrics.client(None) as http:
        assert (await http.get("/dashboard")).status_code == 401
    assert await audited(metrics, "2026-11") == ["commissioner-cat"]
