"""The case service in-process: real PostgreSQL, real broker, real token issuer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gmirs_case.__main__ import COMMAND
from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.examples import example_data
from gmirs_contracts.validation import validate_event
from gmirs_runtime import cli
from gmirs_runtime.eventing.envelope import Event, from_record, to_headers
from gmirs_runtime.paging import MAX_PAGE_OFFSET
from gmirs_runtime.testing.kafka import eventually, wait_for_records
from gmirs_runtime.testing.paging import assert_bounded
from gmirs_runtime.testing.services import RunningService

INTAKE = "intake.referral-events.v1"
CASES = "case.case-events.v1"


@pytest.fixture
async def case_service(start_service) -> AsyncIterator[RunningService]:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        yield service


def _referral(hub: str | None = "bolton") -> Event:
    data = example_data("gmirs.intake.referral-received.v1")
    data["referral_id"] = str(uuid.uuid4())
    data["hub_id"] = hub
    return Event(
        type="gmirs.intake.referral-received.v1",
        source="/gmirs/test",
        subject=uuid.UUID(data["referral_id"]),
        data=data,
    )


async def _publish(bootstrap: str, *events: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                INTAKE, key=e.key, value=orjson.dumps(e.data), headers=to_headers(e)
            )
    finally:
        await producer.stop()


async def _cases(service: RunningService, hub: str) -> list[dict]:  # type: ignore[type-arg]
    async with service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
        response = await http.get("/cases", params={"limit": 200})
        assert response.status_code == 200
        return response.json()["items"]  # type: ignore[no-any-return]


async def test_a_routed_referral_opens_one_case_owned_by_its_hub(
    case_service, kafka_broker
) -> None:
    referral = _referral("bolton")
    await _publish(kafka_broker.bootstrap, referral, referral)
    await _publish(kafka_broker.bootstrap, _referral(None))  # unrouted: held by intake, no case

    async def opened() -> bool:
        return any(
            c["referral_id"] == str(referral.subject) for c in await _cases(case_service, "bolton")
        )

    await eventually(opened)
    mine = [
        c for c in await _cases(case_service, "bolton") if c["referral_id"] == str(referral.subject)
    ]
    assert len(mine) == 1
    assert await _cases(case_service, "bury") == []
    records = await wait_for_records(
        kafka_broker.bootstrap,
        CASES,
        lambda r: orjson.loads(r.value).get("referral_id") == str(referral.subject),
        count=2,
    )
    published = [from_record(r.key, r.value, r.headers) for r in records]
    assert [e.type for e in published] == [
        "gmirs.case.case-opened.v1",
        "gmirs.case.case-allocated.v1",
    ]
    assert {r.key for r in records} == {mine[0]["id"].encode()}
    for event in published:
        validate_event(event.type, dict(event.data))
    assert published[1].data["hub_id"] == "bolton"
    assert published[1].data["referral_sent_at"] == referral.data["sent_at"]
    async with case_service.as_client("hub-bury", ["hub"], {"hub_id": "bury"}) as http:
        assert (await http.get(f"/cases/{mine[0]['id']}")).status_code == 404


async def test_attendance_flow_and_its_event(case_service, kafka_broker) -> None:
    referral = _referral("wigan")
    await _publish(kafka_broker.bootstrap, referral)

    async def opened() -> bool:
        return bool(await _cases(case_service, "wigan"))

    await eventually(opened)
    case_id = (await _cases(case_service, "wigan"))[0]["id"]
    now = datetime.now(UTC)
    async with case_service.as_client("hub-wigan", ["hub"], {"hub_id": "wigan"}) as http:
        contact = {"occurred_at": (now - timedelta(days=1)).isoformat()}
        assert (await http.post(f"/cases/{case_id}/first-contact", json=contact)).status_code == 200
        booked = await http.post(
            f"/cases/{case_id}/appointments",
            json={
                "kind": "initial-assessment",
                "starts_at": (now - timedelta(hours=3)).isoformat(),
                "ends_at": (now - timedelta(hours=2)).isoformat(),
                "delivery_type": "phone-call",
            },
        )
        assert booked.status_code == 201, booked.text
        path = f"/cases/{case_id}/appointments/{booked.json()['id']}/attendance"
        inconsistent = await http.put(path, json={"attended": "no", "session_happened": True})
        assert inconsistent.status_code == 422
        recorded = await http.put(path, json={"attended": "no", "session_happened": False})
        assert recorded.status_code == 200, recorded.text
        again = await http.put(path, json={"attended": "yes", "session_happened": True})
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        read = await http.get(f"/cases/{case_id}")
        assert read.json()["appointments"][0]["attendance"]["non_attendance"] is True

    (record,) = await wait_for_records(
        kafka_broker.bootstrap,
        CASES,
        lambda r: (
            dict(r.headers)["ce_type"] == b"gmirs.case.attendance-recorded.v1"
            and orjson.loads(r.value)["case_id"] == case_id
        ),
    )
    data = orjson.loads(record.value)
    validate_event("gmirs.case.attendance-recorded.v1", data)
    assert data["non_attendance"] is True
    assert (data["source"], data["rm_appointment_id"]) == ("hub", None)  # recorded by the hub
    # The worker's login, for notify's write-back to R&M on their behalf; an assessment has no
    # session number.
    assert (data["recorded_by"], data["session_number"]) == ("hub-wigan", None)
    ends = datetime.fromisoformat(data["appointment_ends_at"])
    assert datetime.fromisoformat(data["report_due_by"]) == ends + timedelta(hours=24)


async def test_only_case_workers_may_use_the_api(case_service) -> None:
    async with case_service.as_client("commissioner", ["commissioner"]) as http:
        assert (await http.get("/cases")).status_code == 403
    async with case_service.as_client("hub-x", ["hub"]) as http:  # a hub token without its hub
        assert (await http.get("/cases")).status_code == 403
    async with case_service.as_client("hub-x", ["hub"], {"hub_id": "atlantis"}) as http:
        assert (await http.get("/cases")).status_code == 403  # a hub that is not configured
    token = case_service.issuer.mint("hub-bury", ["hub"], "gmirs-case", {"hub_id": "bury"}, 7200)
    async with case_service.client(token) as http:
        response = await http.get("/cases")  # a token living longer than the one-hour maximum
        assert response.status_code == 401
    async with case_service.client(None) as http:
        response = await http.get("/cases")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_client_over_its_request_limit_is_answered_429(start_service) -> None:
    async with start_service(
        CaseSettings, build, MIGRATIONS, rate_limit_per_second=0.05, rate_limit_burst=2
    ) as service:
        async with service.as_client("hub-bury", ["hub"], {"hub_id": "bury"}) as http:
            statuses = [(await http.get("/cases")).status_code for _ in range(3)]
            refused = await http.get("/cases")
        async with service.as_client("hub-wigan", ["hub"], {"hub_id": "wigan"}) as http:
            other = await http.get("/cases")  # another client has its own allowance
        async with service.client(None) as http:
            health = [(await http.get("/health")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["content-type"] == "application/problem+json"
    assert other.status_code == 200
    assert health == [200, 200, 200]


async def test_paging_beyond_its_bounds_is_a_problem_not_a_server_error(case_service) -> None:
    async with case_service.as_client("hub-bolton", ["hub"], {"hub_id": "bolton"}) as http:
        await assert_bounded(lambda params: http.get("/cases", params=params), "limit", "offset")
        deepest = await http.get("/cases", params={"offset": MAX_PAGE_OFFSET})
    assert deepest.status_code == 200
    assert deepest.json()["items"] == []


async def test_operators_list_retry_and_discard_parked_outbox_rows_from_the_cli(
    case_service, capsys
) -> None:
    """A parked row (as the relay leaves one): listed with its reason, retried, then published."""
    event_id, aggregate = uuid.uuid4(), uuid.uuid4()
    async with case_service.infra.engine.begin() as conn:
        row_id = await conn.scalar(
            text(
                "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, source,"
                " time, payload, parked_at, parked_reason) VALUES (:e, 'case', :a, 'gmirs.t.v1',"
                " :topic, '/gmirs/case', now(), '{}', now(), 'MessageSizeTooLargeError: test')"
                " RETURNING id"
            ),
            {"e": event_id, "a": aggregate, "topic": CASES},
        )
    settings = case_service.infra.settings

    async def outbox_cli(*argv: str) -> int:
        args = cli._parser(COMMAND).parse_args(["outbox", *argv])
        return await cli._parked_outbox(COMMAND, settings, args)

    assert await outbox_cli("list") == 0
    [listed] = orjson.loads(capsys.readouterr().out)
    assert (listed["id"], listed["reason"]) == (row_id, "MessageSizeTooLargeError: test")
    assert await outbox_cli("retry", str(row_id), "--reason", "limit raised") == 0
    assert await outbox_cli("discard", str(row_id), "--reason", "already retried") == 1
    await eventually(lambda: _published(case_service, row_id), timeout=15)


async def _published(service: RunningService, row_id: int) -> bool:
    async with service.infra.engine.connect() as conn:
        sql = "SELECT published_at IS NOT NULL FROM outbox WHERE id = :i"
        return bool(await conn.scalar(text(sql), {"i": row_id}))
