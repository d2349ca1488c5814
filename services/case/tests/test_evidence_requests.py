"""Evidence requests through the running case service: every role, the clock under the test's
control (`app.state.clock`), events on the real broker, and hostile input.

The clock starts on Friday 4 December 2026 at 15:00 (GMT): a request raised then counts from
that Friday and is due on Monday 7 December at 17:00.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest_asyncio
from services.case.tests.people_harness import CASES, case_of, publish, routed_referral

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.validation import validate_event
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.kafka import wait_for_records
from gmirs_runtime.testing.services import RunningService, own_database, running_service

FRIDAY = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
MONDAY_DUE = "2026-12-07T17:00:00Z"
PATH = "/evidence-requests"


class Clock:
    def __init__(self) -> None:
        self.now = FRIDAY

    def __call__(self) -> datetime:
        return self.now


class Evidence:
    """The service, its clock, and a case per hub (bolton, bury)."""

    def __init__(self, service: RunningService, clock: Clock, cases: dict[str, str]) -> None:
        self.service, self.clock, self.cases = service, clock, cases

    def commissioner(self, name: str = "gmca") -> httpx.AsyncClient:
        return self.service.as_client(name, ["commissioner"])

    def hub(self, name: str) -> httpx.AsyncClient:
        return self.service.as_client(f"hub-{name}", ["hub"], {"hub_id": name})

    def lead(self) -> httpx.AsyncClient:
        return self.service.as_client("lead", ["lead-provider"])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def evidence(postgres_server, kafka_broker, token_issuer) -> AsyncIterator[Evidence]:
    clock = Clock()

    async def build_with_clock(settings: ServiceSettings) -> tuple[Service, Any]:
        service, infra = await build(settings)
        assert service.app is not None
        service.app.state.clock = clock
        return service, infra

    async with (
        own_database(postgres_server, "evidence") as url,
        running_service(
            settings_class=CaseSettings,
            build=build_with_clock,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
        ) as service,
    ):
        referrals = {hub: routed_referral(hub) for hub in ("bolton", "bury")}
        await publish(kafka_broker.bootstrap, *referrals.values())
        cases = {hub: await case_of(service, sent) for hub, sent in referrals.items()}
        yield Evidence(service, clock, cases)


async def _raise(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    made = await http.post(PATH, json={"asked": "Attendance records for November", **body})
    assert made.status_code == 201, made.text
    assert made.headers["location"] == f"{PATH}/{made.json()['id']}"
    return made.json()  # type: ignore[no-any-return]


async def _ids(http: httpx.AsyncClient, **params: Any) -> list[str]:
    listed = await http.get(PATH, params={"limit": 200, **params})
    assert listed.status_code == 200, listed.text
    return [item["id"] for item in listed.json()["items"]]


async def test_who_raises_sees_and_answers_what(evidence: Evidence) -> None:
    evidence.clock.now = FRIDAY
    async with evidence.commissioner() as gmca, evidence.commissioner("gmps") as gmps:
        about_case = await _raise(gmca, case_id=evidence.cases["bolton"])
        of_lead = await _raise(gmca)
        of_bury = await _raise(gmps, hub_id="bury")
        assert (about_case["hub_id"], of_lead["hub_id"], of_bury["hub_id"]) == (
            "bolton",
            None,
            "bury",
        )
        assert about_case["counted_from"] == "2026-12-04"
        assert about_case["due_at"] == MONDAY_DUE
        assert (about_case["state"], about_case["overdue"], about_case["answer"]) == (
            "open",
            False,
            None,
        )
        mine = {about_case["id"], of_lead["id"]}
        assert mine <= set(await _ids(gmca))
        assert of_bury["id"] not in await _ids(gmca)
        assert (await gmps.get(f"{PATH}/{about_case['id']}")).status_code == 404
        seen = (await gmca.get(f"{PATH}/{about_case['id']}")).json()
        assert "crn" not in orjson.dumps(seen).decode().lower()
        assert set(seen) == set(about_case)  # the request, never the case's record
    async with evidence.hub("bolton") as bolton, evidence.hub("bury") as bury:
        assert about_case["id"] in await _ids(bolton)
        assert not {of_lead["id"], of_bury["id"]} & set(await _ids(bolton))
        assert (await bury.get(f"{PATH}/{about_case['id']}")).status_code == 404
        answer = {"answer": "Sent by secure email to the contract manager"}
        assert (
            await bury.post(f"{PATH}/{about_case['id']}/answer", json=answer)
        ).status_code == 404
        assert (await bolton.post(f"{PATH}/{of_lead['id']}/answer", json=answer)).status_code == 404
        assert (await bolton.post(PATH, json={"asked": "x"})).status_code == 403
    async with evidence.lead() as lead:
        assert {about_case["id"], of_lead["id"], of_bury["id"]} <= set(await _ids(lead))
        assert (await lead.post(PATH, json={"asked": "x"})).status_code == 403
    async with evidence.commissioner() as gmca:
        refused = await gmca.post(f"{PATH}/{about_case['id']}/answer", json={"answer": "x"})
        assert refused.status_code == 403
    for role in ("operator", "probation-system"):
        async with evidence.service.as_client(role, [role]) as other:
            assert (await other.get(PATH)).status_code == 403
            assert (await other.post(PATH, json={"asked": "x"})).status_code == 403
    async with evidence.service.client(None) as anonymous:
        assert (await anonymous.get(PATH)).status_code == 401


async def test_on_time_late_overdue_and_the_events_metrics_reads(evidence: Evidence) -> None:
    evidence.clock.now = FRIDAY
    async with evidence.commissioner() as gmca:
        prompt = await _raise(gmca, hub_id="bolton")
        slow = await _raise(gmca)
        easter = await _raise(gmca, requested_at="2026-04-03T09:00:00Z")  # Good Friday
    assert (easter["counted_from"], easter["due_at"]) == ("2026-04-07", "2026-04-08T16:00:00Z")
    evidence.clock.now = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)  # Monday morning
    async with evidence.hub("bolton") as bolton:
        sent = await bolton.post(f"{PATH}/{prompt['id']}/answer", json={"answer": "Sent today"})
        assert sent.status_code == 200, sent.text
        assert (sent.json()["state"], sent.json()["answer"]["on_time"]) == ("answered", True)
        again = await bolton.post(f"{PATH}/{prompt['id']}/answer", json={"answer": "Again"})
        assert again.status_code == 409
    evidence.clock.now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # Tuesday: Monday 17:00 passed
    async with evidence.lead() as lead:
        overdue = await _ids(lead, overdue="true")
        assert slow["id"] in overdue
        assert prompt["id"] not in overdue
        assert prompt["id"] in await _ids(lead, overdue="false")
        assert prompt["id"] not in await _ids(lead, open="true")
        assert prompt["id"] in await _ids(lead, open="false", hub_id="bolton")
        assert slow["id"] not in await _ids(lead, hub_id="bolton")
        late = await lead.post(f"{PATH}/{slow['id']}/answer", json={"answer": "Sorry, late"})
        assert late.json()["answer"]["on_time"] is False
        assert slow["id"] not in await _ids(lead, overdue="true")
    async with evidence.commissioner() as gmca:
        read = (await gmca.get(f"{PATH}/{slow['id']}")).json()
        assert (read["answer"]["text"], read["answer"]["on_time"]) == ("Sorry, late", False)
    answered = await _events(evidence, "gmirs.case.evidence-request-answered.v1", prompt, slow)
    assert (answered[prompt["id"]]["on_time"], answered[slow["id"]]["on_time"]) == (True, False)
    assert answered[prompt["id"]]["answered_by_hub"] is True
    assert answered[slow["id"]]["answered_at"] == "2026-12-08T09:00:00Z"
    requested = await _events(evidence, "gmirs.case.evidence-requested.v1", prompt, slow)
    assert requested[prompt["id"]]["due_at"] == MONDAY_DUE
    assert requested[slow["id"]]["hub_id"] is None


async def _events(
    evidence: Evidence, ce_type: str, *requests: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The events of `ce_type` about `requests`, by request id (checked against the schema)."""
    wanted = {r["id"] for r in requests}
    records = await wait_for_records(
        evidence.service.infra.kafka.bootstrap_servers,
        CASES,
        lambda r: (
            dict(r.headers)["ce_type"].decode() == ce_type
            and orjson.loads(r.value).get("request_id") in wanted
        ),
        count=len(wanted),
    )
    found = {}
    for record in records:
        data = orjson.loads(record.value)
        validate_event(ce_type, data)
        assert b"Attendance" not in record.value  # no free text on the wire
        found[data["request_id"]] = data
    return found


async def test_bad_input_is_a_problem_and_nothing_is_written(evidence: Evidence) -> None:
    evidence.clock.now = FRIDAY
    async with evidence.lead() as lead:
        before = (await lead.get(PATH)).json()["total"]
    bad_bodies: list[Any] = [
        {},
        {"asked": ""},
        {"asked": "a\x00b"},
        {"asked": "Records of X123456, please"},
        {"asked": "x" * 4001},
        {"asked": "x", "hub_id": "atlantis"},
        {"asked": "x", "hub_id": 9007199254740993},
        {"asked": "x", "case_id": str(uuid.uuid4())},
        {"asked": "x", "case_id": evidence.cases["bolton"], "hub_id": "bury"},
        {"asked": "x", "requested_at": "2026-12-04T15:01:00Z"},  # after the clock's now
        {"asked": "x", "requested_at": "2026-12-04T15:00:00"},  # no offset
        {"asked": "x", "requested_at": 1733324400},
        {"asked": "x", "extra": True},
        ["asked"],
    ]
    async with evidence.commissioner() as gmca:
        for body in bad_bodies:
            refused = await gmca.post(PATH, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        huge = await gmca.post(PATH, content=b'{"asked": "' + b"x" * 2_000_000 + b'"}')
        assert huge.status_code == 413
        for params in ({"overdue": "maybe"}, {"limit": 0}, {"hub_id": "Not A Hub"}):
            assert (await gmca.get(PATH, params=params)).status_code == 422
        assert (await gmca.get(f"{PATH}/not-a-uuid")).status_code == 422
        made = await _raise(gmca, hub_id="bolton")
    async with evidence.hub("bolton") as bolton:
        for answer in ({}, {"answer": ""}, {"answer": "see X123456"}, {"answer": "\u202e"}):
            refused = await bolton.post(f"{PATH}/{made['id']}/answer", json=answer)
            assert refused.status_code == 422, (answer, refused.text)
        assert (await bolton.get(f"{PATH}/{made['id']}")).json()["state"] == "open"
    async with evidence.lead() as lead:
        assert (await lead.get(PATH)).json()["total"] == before + 1


async def test_many_requests_and_answers_on_one_connection(evidence: Evidence) -> None:
    evidence.clock.now = FRIDAY
    async with evidence.commissioner("gmca-bulk") as gmca:
        made = [(await _raise(gmca, hub_id="bury"))["id"] for _ in range(25)]
    async with evidence.hub("bury") as bury:
        for request_id in made:
            sent = await bury.post(f"{PATH}/{request_id}/answer", json={"answer": "Sent"})
            assert sent.status_code == 200, sent.text
    async with evidence.commissioner("gmca-bulk") as gmca:
        listed = (await gmca.get(PATH, params={"limit": 200})).json()
    assert listed["total"] == 25
    assert {item["state"] for item in listed["items"]} == {"answered"}
