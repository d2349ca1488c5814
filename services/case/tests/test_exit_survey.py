"""The exit survey through the real service: offers by role, the public page, answers stored once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest_asyncio
from services.case.tests.exit_survey_harness import CASES, EARLY, SurveyCase, survey_case

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.domain.exit_survey import token_hash
from gmirs_case.settings import CaseSettings
from gmirs_contracts.validation import validate_event
from gmirs_runtime.testing.kafka import wait_for_records

GOOD = {
    "helpfulness": "4",
    "helped_most": "practical-help",
    "could_be_better": "more-sessions",
    "would_recommend": "yes",
    "comments": "The sessions helped.",
}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def survey(postgres_server, kafka_broker, token_issuer) -> AsyncIterator[SurveyCase]:
    async for running in survey_case(postgres_server, kafka_broker, token_issuer):
        yield running


def _public(survey: SurveyCase) -> httpx.AsyncClient:
    return survey.service.client(None)


def _nonce(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found, "the form carries its nonce"
    return found.group(1)


async def _submit(http: httpx.AsyncClient, link: str, answers: dict[str, str]) -> httpx.Response:
    nonce = _nonce((await http.get(link)).text)
    return await http.post(link, data={"nonce": nonce, **answers}, headers=FORM)


async def test_who_may_offer_a_link(survey: SurveyCase) -> None:
    case_a = survey.cases["bolton"]
    svc = survey.service
    callers: list[tuple[Any, int]] = [
        (survey.hub("bolton"), 201),
        (svc.as_client("lead", ["lead-provider"]), 201),
        (survey.hub("bury"), 404),  # another hub's case is not there at all
        (svc.as_client("comm", ["commissioner"]), 403),
        (svc.as_client("op", ["operator"]), 403),
        (svc.client(None), 401),
    ]
    for client, expected in callers:
        async with client as http:
            for path in (f"/cases/{case_a}/exit-survey", f"/cases/{case_a}/exit-survey/declined"):
                answer = await http.post(path)
                wanted = 204 if expected == 201 and path.endswith("declined") else expected
                assert answer.status_code == wanted, (path, answer.text)
    assert await survey.query("SELECT 1 FROM exit_survey_declines") != []


async def test_the_first_link_is_the_lifecycles_offer_and_only_after_the_sessions(
    survey: SurveyCase,
) -> None:
    early, done = survey.cases[EARLY], survey.cases["bury"]
    async with survey.hub("bolton") as http:
        refused = await http.post(f"/cases/{early}/exit-survey")
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (refused.json()["state"], refused.json()["command"]) == (
            "allocated",
            "offer-exit-survey",
        )
        assert (await http.get(f"/cases/{early}")).json()["lifecycle"]["state"] == "allocated"
        gone = await http.post(f"/cases/{early}/exit-survey-offer", json={"occurred_at": "x"})
        assert gone.status_code in (404, 405)  # one way to offer: the link
    assert await survey.query("SELECT 1 FROM exit_survey_offers WHERE case_id = $1", early) == []
    async with survey.hub("bury") as http:
        for _ in range(3):
            assert (await http.post(f"/cases/{done}/exit-survey")).status_code == 201
        lifecycle = (await http.get(f"/cases/{done}")).json()["lifecycle"]
    assert lifecycle["state"] == "exit-survey-offered"
    offered = await survey.query(
        "SELECT payload FROM outbox WHERE type = 'gmirs.case.exit-survey-offered.v1'"
        " AND aggregateid = $1",
        done,
    )
    assert len(offered) == 1  # three links, one offer
    payload = orjson.loads(offered[0]["payload"])
    validate_event("gmirs.case.exit-survey-offered.v1", payload)
    first = lifecycle["reached"]["exit-survey-offered"]
    assert datetime.fromisoformat(payload["occurred_at"]) == datetime.fromisoformat(first)


async def test_the_link_is_long_random_single_use_and_only_its_hash_is_kept(
    survey: SurveyCase,
) -> None:
    async with survey.hub() as http:
        made = await http.post(f"/cases/{survey.cases['bolton']}/exit-survey")
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    link = made.json()["link"]
    token = link.removeprefix("/exit-survey/")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 random bits
    for table in ("exit_survey_offers", "outbox", "audit_log"):
        rows = await survey.query(f"SELECT * FROM {table}")
        assert token not in repr(rows), f"the token is stored in {table}"
    offers = await survey.query("SELECT token_hash FROM exit_survey_offers")
    assert len({o["token_hash"] for o in offers}) == len(offers)


async def test_answering_stores_once_publishes_numbers_only_and_ends_the_link(
    survey: SurveyCase,
) -> None:
    link = await survey.offer()
    async with _public(survey) as http:
        page = await http.get(link)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "same-origin"
        assert '<html lang="en">' in page.text
        assert "<script" not in page.text
        thanks = await _submit(http, link, GOOD)
        assert thanks.status_code == 200, thanks.text
        assert "Thank you" in thanks.text
        again = await http.post(link, data={"nonce": _nonce(page.text), **GOOD}, headers=FORM)
        assert again.status_code == 410
        assert "already answered" in again.text
        assert (await http.get(link)).status_code == 410
    offer_id = (
        await survey.query(
            "SELECT id FROM exit_survey_offers WHERE completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT 1"
        )
    )[0]["id"]
    stored = await survey.query("SELECT * FROM exit_survey_responses WHERE offer_id = $1", offer_id)
    assert len(stored) == 1
    assert stored[0]["comments"] == GOOD["comments"]
    (record,) = await wait_for_records(
        survey.service.infra.kafka.bootstrap_servers,
        CASES,
        lambda r: (
            dict(r.headers)["ce_type"] == b"gmirs.case.exit-survey-completed.v1"
            and orjson.loads(r.value)["helped_most"] == "practical-help"
        ),
    )
    data = orjson.loads(record.value)
    validate_event("gmirs.case.exit-survey-completed.v1", data)
    assert data["helpfulness"] == 4
    assert data["left_comments"] is True
    assert GOOD["comments"] not in record.value.decode()


async def test_wrong_answers_get_the_form_again_with_an_error_summary_and_nothing_stored(
    survey: SurveyCase,
) -> None:
    link = await survey.offer()
    before = await survey.query("SELECT count(*) AS n FROM exit_survey_responses")
    async with _public(survey) as http:
        missing = await _submit(http, link, {"helpfulness": "9", "comments": "x\x00y"})
        assert missing.status_code == 400
        assert "There is a problem" in missing.text
        assert 'href="#helpfulness-1"' in missing.text
        assert "Select what helped you most" in missing.text
        assert "letters, numbers and punctuation" in missing.text
        long = await _submit(http, link, {**GOOD, "comments": "a" * 1201})
        assert long.status_code == 400
        assert "1200 characters or less" in long.text
        assert (await http.get(link)).status_code == 200  # still open
    after = await survey.query("SELECT count(*) AS n FROM exit_survey_responses")
    assert after == before


async def test_forged_and_cross_site_posts_are_refused(survey: SurveyCase) -> None:
    link = await survey.offer()
    async with _public(survey) as http:
        nonce = _nonce((await http.get(link)).text)
        forged = await http.post(link, data={"nonce": "guess", **GOOD}, headers=FORM)
        assert forged.status_code == 403
        elsewhere = {**FORM, "Origin": "https://attacker.example"}
        assert (
            await http.post(link, data={"nonce": nonce, **GOOD}, headers=elsewhere)
        ).status_code == 403
        cross = {**FORM, "Sec-Fetch-Site": "cross-site"}
        assert (
            await http.post(link, data={"nonce": nonce, **GOOD}, headers=cross)
        ).status_code == 403
        as_json = await http.post(link, json={"nonce": nonce, **GOOD})
        assert as_json.status_code == 403
        twice = f"nonce={nonce}&helpfulness=4&helpfulness=1"
        assert (await http.post(link, content=twice, headers=FORM)).status_code == 403
        assert (await http.get(link)).status_code == 200  # none of it used the link


async def test_unknown_expired_and_declined_links_answer_pages(survey: SurveyCase) -> None:
    expired = await survey.offer()
    token = expired.removeprefix("/exit-survey/")
    await survey.query(
        "UPDATE exit_survey_offers SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
        token_hash(token),
    )
    declined = await survey.offer("bury")
    async with survey.hub("bury") as hub:
        assert (
            await hub.post(f"/cases/{survey.cases['bury']}/exit-survey/declined")
        ).status_code == 204
    async with _public(survey) as http:
        unknown = await http.get("/exit-survey/" + "A" * 43)
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("text/html")
        assert "not recognised" in unknown.text
        for link in (expired, declined):
            gone = await http.get(link)
            assert gone.status_code == 410
            assert "expired" in gone.text
            posted = await http.post(link, data=GOOD, headers=FORM)
            assert posted.status_code == 410
    (record,) = await wait_for_records(
        survey.service.infra.kafka.bootstrap_servers,
        CASES,
        lambda r: (
            dict(r.headers)["ce_type"] == b"gmirs.case.exit-survey-declined.v1"
            and orjson.loads(r.value)["case_id"] == survey.cases["bury"]
        ),
    )
    validate_event("gmirs.case.exit-survey-declined.v1", orjson.loads(record.value))


async def test_many_offers_and_answers_on_one_connection(survey: SurveyCase) -> None:
    links = set()
    async with survey.hub() as hub, _public(survey) as http:
        for _ in range(15):
            made = await hub.post(f"/cases/{survey.cases['bolton']}/exit-survey")
            assert made.status_code == 201
            links.add(made.json()["link"])
        for link in links:
            assert (await _submit(http, link, GOOD)).status_code == 200
    assert len(links) == 15


async def test_the_stylesheet_is_served_by_case(survey: SurveyCase) -> None:
    async with _public(survey) as http:
        css = await http.get("/exit-survey/static/survey.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "#0b0c0c" in css.text


async def test_the_public_pages_are_rate_limited_per_address(start_service) -> None:
    limited = {"rate_limit_burst": 3, "rate_limit_per_second": 0.01}
    # The module's own case service is running: this one serves the pages only.
    started = start_service(CaseSettings, build, MIGRATIONS, consumers=False, **limited)
    async with started as service, service.client(None) as http:
        answers = [(await http.get("/exit-survey/" + "B" * 43)).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
