"""`GET /kpis` over real HTTP: every role, a hub's own hub only, problems for bad input, the
clock deciding what is pending, the settings choosing a reading, and every read audited."""

from __future__ import annotations

from typing import Any

import httpx
from services.metrics.tests.facts import Facts
from services.metrics.tests.kpi_harness import Metrics, metrics
from sqlalchemy import text

from gmirs_metrics.bootstrap import MIGRATIONS, build
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.testing.hostile import assert_nul_refused

__all__ = ["metrics"]
MONTH = "2028-02"
READERS = (("commissioner", "commissioner"), ("lead-provider", "lead"), ("operator", "ops"))


async def _seed(metrics: Metrics) -> None:
    """February 2028 (Tue 1 - Tue 29, no bank holiday): at bolton one DS2 case met, one still
    in its window on 10 Feb; at bury one failed."""
    f = metrics.facts
    await f.case("bolton", "2028-02-01 10:00", initial_assessment_attended_at="2028-02-08 10:00")
    await f.case("bolton", "2028-02-07 10:00")  # ten working days end Mon 21 Feb
    await f.case("bury", "2028-01-31 10:00")
    await f.case("bury", "2028-02-01 10:00")  # deadline Tue 15 Feb


async def _get(metrics: Metrics, client: str, roles: list[str], **params: Any) -> httpx.Response:
    claims = {"hub_id": client.removeprefix("hub-")} if client.startswith("hub-") else None
    async with metrics.service.as_client(client, roles, claims) as http:
        return await http.get("/kpis", params={"month": MONTH, **params})


def _ds2(body: dict[str, Any], area: str) -> dict[str, Any]:
    return next(k for k in body["kpis"] if k["code"] == "DS2" and k["area"] == area)


async def test_readers_see_every_hub_and_the_clock_decides_pending(metrics: Metrics) -> None:
    await _seed(metrics)
    metrics.clock.set("2028-02-10 12:00")
    for role, client in READERS:
        response = await _get(metrics, client, [role])
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["month"], body["hub"]) == ("2028-02-01", None)
        assert body["as_of"].startswith("2028-02-10T12:00")
        bolton = _ds2(body, "bolton")
        assert (bolton["numerator"], bolton["denominator"], bolton["pending"]) == (1, 1, 1)
        assert (bolton["percentage"], bolton["target_percent"], bolton["status"]) == (
            100.0,
            95.0,
            "green",
        )
        assert {k["area"] for k in body["kpis"] if k["code"] == "KP6"} >= {"all", "bolton", "wigan"}
        assert {k["code"] for k in body["kpis"]} == {
            *(f"DS{n}" for n in range(1, 6)),
            *(f"KP{n}" for n in range(1, 7)),
            "PM001",
            "SL002",
        }
    metrics.clock.set("2028-02-22 09:00")  # past Mon 21 Feb: the waiting case has failed
    later = (await _get(metrics, "commissioner", ["commissioner"])).json()
    assert (_ds2(later, "bolton")["denominator"], _ds2(later, "bolton")["status"]) == (2, "red")
    assert (_ds2(later, "all")["numerator"], _ds2(later, "all")["denominator"]) == (1, 3)


async def test_a_hub_reads_its_own_hub_only(metrics: Metrics) -> None:
    own = await _get(metrics, "hub-bolton", ["hub"])
    assert own.status_code == 200, own.text
    assert own.json()["hub"] == "bolton"
    assert {k["area"] for k in own.json()["kpis"]} == {"bolton"}
    assert {r["area"] for r in own.json()["distance"] + own.json()["reports"]} <= {"bolton"}
    assert (await _get(metrics, "hub-bolton", ["hub"], hub="bolton")).status_code == 200
    other = await _get(metrics, "hub-bolton", ["hub"], hub="bury")
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    async with metrics.service.as_client("hub-nowhere", ["hub"]) as http:  # no hub claim
        assert (await http.get("/kpis", params={"month": MONTH})).status_code == 403
    assert (await _get(metrics, "probation", ["probation-system"])).status_code == 403
    async with metrics.service.client(None) as anonymous:
        assert (await anonymous.get("/kpis", params={"month": MONTH})).status_code == 401
    one_hub = (await _get(metrics, "commissioner", ["commissioner"], hub="bury")).json()
    assert {k["area"] for k in one_hub["kpis"]} == {"bury"}


async def test_bad_months_and_hubs_are_problems(metrics: Metrics) -> None:
    for params in (
        {"month": "2028-13"},
        {"month": "February"},
        {"month": "0000-01"},
        {"month": "9999-12"},
        {"month": MONTH, "hub": "nowhere"},
        {"month": MONTH, "hub": "BOLTON"},
        {},
    ):
        async with metrics.service.as_client("commissioner", ["commissioner"]) as http:
            response = await http.get("/kpis", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    async with metrics.service.as_client("commissioner", ["commissioner"]) as http:
        await assert_nul_refused(http, "GET", "/kpis?month=2028-02%00", "query.month")


async def test_every_read_is_audited_without_figures(metrics: Metrics) -> None:
    assert (await _get(metrics, "lead", ["lead-provider"], hub="wigan")).status_code == 200
    assert (await _get(metrics, "hub-bury", ["hub"])).status_code == 200
    async with metrics.service.infra.sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT actor, action, resource_type, resource_id FROM audit_log"
                    " WHERE resource_type = 'kpis' ORDER BY id DESC LIMIT 2"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("hub-bury", "read", "kpis", f"{MONTH}/bury"),
        ("lead", "read", "kpis", f"{MONTH}/wigan"),
    ]


async def test_settings_choose_the_readings(start_service, monkeypatch) -> None:
    """METRICS_KPI_* settings reach the figures: mitigated cases leave DS2's denominator, and
    DS1's targets come from JSON in the environment."""
    monkeypatch.setenv("METRICS_KPI_DS1_MONTHLY_TARGETS", '{"oldham": 2}')
    # The module's own metrics service is running: this one reads, it does not consume.
    started = start_service(
        MetricsSettings, build, MIGRATIONS, kpi_mitigation="excluded", consumers=False
    )
    async with started as svc:
        facts = Facts(svc.infra.sessions)
        late = await facts.case("oldham", "2026-03-02 10:00")  # never assessed
        await facts.mitigation(late, "oldham", "DS2", "2026-03-03 10:00")
        await facts.referral("oldham", "2026-03-02 10:00")
        async with svc.as_client("commissioner", ["commissioner"]) as http:
            response = await http.get("/kpis", params={"month": "2026-03", "hub": "oldham"})
        assert response.status_code == 200, response.text
        kpis = {k["code"]: k for k in response.json()["kpis"]}
        assert (kpis["DS2"]["numerator"], kpis["DS2"]["denominator"]) == (0, 0)
        assert kpis["DS2"]["mitigated"] == 1
        assert (kpis["DS1"]["numerator"], kpis["DS1"]["denominator"]) == (1, 2)
