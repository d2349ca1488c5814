"""The simulator in process: R&M's JSON shapes, every event type with a detail URL that answers, Spring
paging, the resource-server checks, and no personal data in its logs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gmirs_stack.aws import RM_EVENT_TYPES
from tests.fakes.rm_simulator import RmSimulator, create_app, main
from tests.fakes.rm_sns import canonical_string

BASE = "http://rm.test"


class Rm:
    def __init__(self, http: httpx.AsyncClient, sim: RmSimulator) -> None:
        self.http, self.sim = http, sim
        self.headers = {"Authorization": f"Bearer {sim.auth.issue('gmirs-intake')}"}

    async def act(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def get(self, url: str, **params: Any) -> Any:
        response = await self.http.get(url, headers=self.headers, params=params)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        return response.json()


@pytest_asyncio.fixture(loop_scope="session")
async def rm() -> AsyncIterator[Rm]:
    app = create_app(
        base_url=BASE,
        sns=None,
        push_url=None,
        token_ttl=60,
        client_id="c",
        client_secret="s",
        seed=7,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield Rm(http, app.state.rm)


async def lifecycle(rm: Rm) -> list[dict[str, Any]]:
    """Every step R&M knows, on one referral; the envelopes in publication order."""
    ref = (await rm.act("referrals", {"service_categories": ["Social Inclusion"]}))["referral_id"]
    plan = (await rm.act(f"referrals/{ref}/action-plans", {"number_of_sessions": 2}))[
        "action_plan_id"
    ]
    for path, body in [
        (f"referrals/{ref}/assign", {}),
        (f"referrals/{ref}/initial-assessment", {"attended": "no"}),
        (f"referrals/{ref}/initial-assessment", {"attended": "yes"}),
        (f"action-plans/{plan}/approve", {}),
        (f"referrals/{ref}/sessions/1", {"attended": "late"}),
        (f"referrals/{ref}/sessions/2", {"attended": "no"}),
        (f"referrals/{ref}/end", {}),
        (f"referrals/{ref}/end-of-service-report", {}),
        (f"referrals/{ref}/conclude", {}),
    ]:
        await rm.act(path, body)
    published = (await rm.http.get("/_control/published")).json()
    return [p["envelope"] for p in published]


async def test_every_event_type_has_a_detail_url_that_answers(rm: Rm) -> None:
    envelopes = await lifecycle(rm)

    assert {e["eventType"] for e in envelopes} == set(RM_EVENT_TYPES)
    for envelope in envelopes:
        assert envelope["version"] == 1
        assert envelope["detailUrl"].startswith(BASE)
        assert datetime.fromisoformat(envelope["occurredAt"]).tzinfo is not None
        [identifier] = envelope["personReference"]["identifiers"]
        assert identifier["type"] == "CRN"
        await rm.get(envelope["detailUrl"].removeprefix(BASE))


async def test_intake_parses_every_envelope(rm: Rm) -> None:
    parser = pytest.importorskip("gmirs_referral_intake.domain.rm_envelope")
    envelopes = await lifecycle(rm)

    parsed = [parser.parse_envelope(e) for e in envelopes]

    assert len({p.identity for p in parsed}) == len(envelopes)
    assert all(p.crn == envelopes[0]["personReference"]["identifiers"][0]["value"] for p in parsed)


async def test_sent_referral_carries_what_a_hub_needs(rm: Rm) -> None:
    created = await rm.act("referrals", {"pdu": "Manchester South", "complexity": "HIGH"})

    body = await rm.get(f"/sent-referral/{created['referral_id']}")

    details = body["referral"]
    assert body["referenceNumber"] == created["reference_number"]
    assert body["referenceNumber"][-2:] == "PE"
    assert body["referenceNumber"][2:6].isdigit()
    assert details["serviceUser"]["crn"] == created["crn"] == body["serviceUserCRN"]
    assert details["dynamicFrameworkContractReference"] == "DN671065_MANCHESTER_PWB"
    [category_id] = details["serviceCategoryIds"]
    category = await rm.get(f"/service-category/{category_id}")
    high = next(
        level for level in category["complexityLevels"] if level["title"] == "High complexity"
    )
    assert details["complexityLevels"] == [
        {"serviceCategoryId": category_id, "complexityLevelId": high["id"]}
    ]
    outcome_ids = {o["id"] for o in category["desiredOutcomes"]}
    assert set(details["desiredOutcomes"][0]["desiredOutcomesIds"]) <= outcome_ids
    assert body["supplementaryRiskId"]
    assert details["ppEmailAddress"]
    assert details["ndeliusPPName"]


async def test_unroutable_referrals_have_no_borough_contract(rm: Rm) -> None:
    elsewhere = await rm.act("referrals", {"pdu": "Cumbria"})
    none = await rm.act("referrals", {"pdu": "Bolton", "contract_reference": None})

    assert elsewhere["contract_reference"] is None
    body = await rm.get(f"/sent-referral/{none['referral_id']}")
    assert body["referral"]["dynamicFrameworkContractReference"] is None
    assert body["referral"]["ppPdu"] == "Bolton"


async def test_summaries_page_like_spring_from_page_one(rm: Rm) -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ids = [
        (await rm.act("referrals", {"sent_at": (start + timedelta(hours=n)).isoformat()}))[
            "referral_id"
        ]
        for n in (3, 1, 4, 0, 2)
    ]

    pages = [await rm.get("/sent-referrals/summaries", page=n, size=2) for n in (1, 2, 3)]

    assert [p["number"] for p in pages] == [0, 1, 2]
    assert [(p["first"], p["last"]) for p in pages] == [
        (True, False),
        (False, False),
        (False, True),
    ]
    assert {p["totalElements"] for p in pages} == {5}
    seen = [row["id"] for p in pages for row in p["content"]]
    assert seen == [ids[3], ids[1], ids[4], ids[0], ids[2]]
    assert (await rm.get("/sent-referrals/summaries", page=0, size=2))["content"] == pages[0][
        "content"
    ]
    assert (await rm.get("/sent-referrals/summaries", page=4, size=2))["empty"] is True


async def test_a_rebooked_session_keeps_the_old_appointment(rm: Rm) -> None:
    ref = (await rm.act("referrals"))["referral_id"]
    first = await rm.act(f"referrals/{ref}/sessions/1", {"attended": "no", "legacy": True})
    second = await rm.act(f"referrals/{ref}/sessions/1", {"attended": "yes", "order": "reversed"})

    session = await rm.get(f"/referral/{ref}/sessions/1")

    assert session["appointmentId"] == second["appointment_id"]
    assert [a["id"] for a in session["oldAppointments"]] == [first["appointment_id"]]
    assert session["oldAppointments"][0]["superseded"] is True
    assert session["deliusAppointmentId"] == str(second["delius_appointment_id"])
    missed, feedback = (e["envelope"] for e in first["events"])
    assert missed["eventType"].endswith(".missed")
    assert (
        feedback["additionalInformation"]["deliusAppointmentId"] == first["delius_appointment_id"]
    )
    assert feedback["additionalInformation"]["contractType"] == "Personal Wellbeing"
    reversed_types = [e["event_type"].rsplit(".", 1)[1] for e in second["events"]]
    assert reversed_types == ["session-feedback-submitted", "attended"]


@pytest.mark.parametrize(
    ("attend", "expected"),
    [([], "CANCELLED"), (["yes"], "PREMATURELY_ENDED"), (["yes", "no"], "COMPLETED")],
)
async def test_withdrawal_states_follow_the_sessions(
    rm: Rm, attend: list[str], expected: str
) -> None:
    ref = (await rm.act("referrals"))["referral_id"]
    plan = (await rm.act(f"referrals/{ref}/action-plans", {"number_of_sessions": 2}))[
        "action_plan_id"
    ]
    await rm.act(f"action-plans/{plan}/approve")
    for number, attended in enumerate(attend, start=1):
        await rm.act(f"referrals/{ref}/sessions/{number}", {"attended": attended})

    withdrawn = await rm.act(f"referrals/{ref}/withdraw", {"code": "MOV"})

    concluded, ended = (e["envelope"] for e in withdrawn["events"])
    assert concluded["eventType"] == "intervention.referral.concluded"
    assert ended["additionalInformation"]["deliveryState"] == expected
    assert ended["additionalInformation"]["withdrawalCode"] == "MOV"
    body = await rm.get(f"/sent-referral/{ref}")
    assert body["concludedAt"]
    assert body["endRequestedReason"]["code"] == "MOV"
    assert body["withdrawalState"] == ("POST_ICA_WITHDRAWAL" if attend else "PRE_ICA_WITHDRAWAL")


async def test_resource_server_checks(rm: Rm) -> None:
    ref = (await rm.act("referrals"))["referral_id"]
    url = f"/sent-referral/{ref}"
    other = create_app(
        base_url=BASE, sns=None, push_url=None, token_ttl=60, client_id="c", client_secret="s"
    )
    cases = {
        "none": {},
        "expired": {"Authorization": f"Bearer {rm.sim.auth.issue('c', ttl=-1)}"},
        "foreign": {"Authorization": f"Bearer {other.state.rm.auth.issue('c')}"},
        "no role": {"Authorization": f"Bearer {rm.sim.auth.issue('c', roles=['ROLE_OTHER'])}"},
    }

    statuses = {name: (await rm.http.get(url, headers=h)).status_code for name, h in cases.items()}

    assert statuses == {"none": 401, "expired": 401, "foreign": 401, "no role": 403}
    assert (
        await rm.http.get(f"/sent-referral/{'0' * 8}-0000-0000-0000-{'0' * 12}", headers=rm.headers)
    ).status_code == 404
    assert (await rm.http.get("/sent-referral/not-a-uuid", headers=rm.headers)).status_code == 400


async def test_logs_carry_no_personal_data(rm: Rm, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        created = await rm.act("referrals", {"first_name": "Zebedee", "crn": "Q123456"})
        await rm.get(f"/sent-referral/{created['referral_id']}")

    assert created["referral_id"] in caplog.text
    assert "Zebedee" not in caplog.text
    assert "Q123456" not in caplog.text


def test_canonical_string_follows_aws() -> None:
    message = {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:eu-west-2:1:t",
        "Subject": "s",
        "Message": json.dumps({"a": 1}),
        "Timestamp": "2026-01-05T10:00:00.000Z",
        "UnsubscribeURL": "ignored",
    }

    expected = (
        'Message\n{"a": 1}\nMessageId\nm-1\nSubject\ns\nTimestamp\n2026-01-05T10:00:00.000Z\n'
    )
    assert (
        canonical_string(message)
        == (expected + "TopicArn\narn:aws:sns:eu-west-2:1:t\nType\nNotification\n").encode()
    )


def test_topic_and_endpoint_go_together() -> None:
    with pytest.raises(SystemExit):
        main(["--port", "1", "--sns-topic-arn", "arn:aws:sns:eu-west-2:1:t"])
