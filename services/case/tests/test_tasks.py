"""Tasks with due dates through the real routes, with the service's clock under the test's
control (`app.state.clock`), so "overdue" is tested without waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from services.case.tests.people_harness import case_of, hub_client, publish, routed_referral

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.services import RunningService


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def clocked(start_service) -> AsyncIterator[tuple[RunningService, Clock]]:
    clock = Clock()

    async def build_with_clock(settings: ServiceSettings) -> tuple[Service, Any]:
        service, infra = await build(settings)
        assert service.app is not None
        service.app.state.clock = clock
        return service, infra

    async with start_service(CaseSettings, build_with_clock, MIGRATIONS) as service:
        yield service, clock


def _day(clock: Clock, days: int) -> str:
    return (clock.now + timedelta(days=days)).date().isoformat()


async def _tasks(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await http.get("/tasks", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_a_workers_overdue_tasks_follow_the_clock(clocked, kafka_broker) -> None:
    service, clock = clocked
    bolton, bury = routed_referral("bolton"), routed_referral("bury")
    await publish(kafka_broker.bootstrap, bolton, bury)
    case_id, bury_case = await case_of(service, bolton), await case_of(service, bury)
    async with hub_client(service, "bolton") as http:
        for days, worker in ((1, "cw.one"), (3, "cw.one"), (2, "cw.two"), (5, None)):
            made = await http.post(
                f"/cases/{case_id}/tasks",
                json={"kind": "next-contact", "due_on": _day(clock, days), "worker": worker},
            )
            assert made.status_code == 201, made.text
            assert made.json()["overdue"] is False
        assert await _tasks(http, overdue="true") == []
        clock.now += timedelta(days=4)  # tasks due in 1, 2 and 3 days are now past due
        overdue = await _tasks(http, overdue="true")
        assert [t["due_on"] for t in overdue] == [_day(clock, -3), _day(clock, -2), _day(clock, -1)]
        mine = await _tasks(http, worker="cw.one", overdue="true")
        assert [t["worker"] for t in mine] == ["cw.one", "cw.one"]
        done = await http.post(f"/cases/{case_id}/tasks/{mine[0]['id']}/done")
        assert done.status_code == 200
        assert (done.json()["state"], done.json()["overdue"]) == ("done", False)
        again = await http.post(f"/cases/{case_id}/tasks/{mine[0]['id']}/done")
        assert again.status_code == 409
        assert "done" in again.json()["detail"]
        assert len(await _tasks(http, worker="cw.one", overdue="true")) == 1
        assert len(await _tasks(http)) == 4
        missing = await http.post(f"/cases/{case_id}/tasks/{bury_case}/done")
        assert missing.status_code == 404
    async with hub_client(service, "bury") as http:
        assert await _tasks(http) == []
        other = await http.post(f"/cases/{case_id}/tasks/{mine[1]['id']}/done")
        assert other.status_code == 404
        assert (
            await http.post(
                f"/cases/{bury_case}/tasks", json={"kind": "review", "due_on": _day(clock, 1)}
            )
        ).status_code == 201
    async with service.as_client("lead", ["lead-provider"]) as http:
        assert {t["hub_id"] for t in await _tasks(http)} == {"bolton", "bury"}
    for role in ("commissioner", "operator"):
        async with service.as_client(role, [role]) as http:
            assert (await http.get("/tasks")).status_code == 403


async def test_tasks_refuse_bad_input(clocked, kafka_broker) -> None:
    service, clock = clocked
    referral = routed_referral("bolton")
    await publish(kafka_broker.bootstrap, referral)
    case_id = await case_of(service, referral)
    path = f"/cases/{case_id}/tasks"
    async with hub_client(service, "bolton") as http:
        for bad in (
            {"kind": "nap", "due_on": _day(clock, 1)},
            {"kind": "review", "due_on": 0},
            {"kind": "review", "due_on": "2300-01-01"},
            {"kind": "review", "due_on": _day(clock, 1), "worker": "a\x00b"},
            {"kind": "review", "due_on": _day(clock, 1), "extra": True},
        ):
            refused = await http.post(path, json=bad)
            assert refused.status_code == 422, bad
            assert refused.headers["content-type"] == "application/problem+json"
        for params in ({"worker": "x" * 201}, {"overdue": "maybe"}, {"limit": 0}):
            assert (await http.get("/tasks", params=params)).status_code == 422
        assert await _tasks(http) == []
