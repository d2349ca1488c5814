"""A case's whole journey with every service a real process, and R&M's progress in disorder.

An R&M referral (simulator -> SNS -> SQS -> intake -> case) opens a case for its hub; R&M
assigns it; the hub works it through its API (first contact, initial assessment, needs, action
plan, two sessions of which one is missed and reported to the probation system); R&M approves
the plan; a real headless browser answers the exit survey on the case's own page; the hub closes
it completed, and the case shows its whole history. A second R&M referral's progress arrives
out of order and every SNS message is delivered twice: the case ends right, with each lifecycle
event published once.

Topics are shared by every end-to-end test: every count here is filtered to this test's ids.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from aiokafka import ConsumerRecord
from playwright.async_api import Browser

from gmirs_contracts.case_lifecycle import CaseState
from gmirs_contracts.registry import EVENTS
from gmirs_runtime.testing.kafka import eventually, read_topic
from tests.browser.harness import browser, new_page
from tests.e2e.case_api import (
    HubCase,
    agree_action_plan,
    book_appointment,
    close_case,
    complete_sessions,
    offer_exit_survey,
    read_case,
    record_attendance,
    record_baseline_assessment,
    record_first_contact,
    record_needs_assessed,
    share_action_plan,
)
from tests.e2e.platform import (
    Platform,
    data_of,
    event_type,
    probation_deliveries,
)
from tests.e2e.rm import (
    CASES,
    SNS,
    RmReferral,
    case_opened_for,
    delivered_again,
    intake_events_of,
    rm_control,
)

__all__ = ["browser"]  # the session's headless chromium, a fixture here
pytestmark = pytest.mark.e2e
NOTIFY = "notify.delivery-events.v1"
HUB_PATH = tuple(s for s in get_args(CaseState) if s != "initial-assessment-missed")
"""Every state a case passes through on the hub's path, in order (no missed assessment)."""
LIFECYCLE_EVENTS = frozenset(t for t, c in EVENTS.items() if "from_state" in c.model.model_fields)
"""The events that move (or fill in) a case's lifecycle: each says where the case was."""


@pytest.fixture(autouse=True)
async def no_rm_faults_left_over(platform: Platform) -> None:
    """The R&M simulator is shared by the session: no fault or held event carries over."""
    await rm_control(platform, "/_control/faults", {"clear": True})
    await rm_control(platform, "/_control/release")


# --- Waiting for what the platform does, bounded. ---


async def _until(
    case: HubCase, wanted: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> dict[str, Any]:
    """The case (as its hub reads it) once `wanted` holds for its lifecycle."""
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await read_case(case))
        return wanted(seen["lifecycle"])

    await eventually(reached, timeout=timeout, what=f"case {case.case_id} lifecycle")
    return seen


def _in_state(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda lifecycle: lifecycle["state"] == state


def _has_reached(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda lifecycle: state in lifecycle["reached"]


async def _lifecycle_events(
    platform: Platform, case_id: str, at_least: int
) -> list[dict[str, Any]]:
    """This case's lifecycle events in the order published (one partition per case), read once
    `at_least` have reached the topic (the outbox publishes after the API has answered); each
    one is checked against its contract."""

    def mine(record: ConsumerRecord[bytes, bytes]) -> bool:
        return event_type(record) in LIFECYCLE_EVENTS and data_of(record)["case_id"] == case_id

    await platform.records(CASES, mine, count=at_least)
    records = await read_topic(platform.stack.broker.bootstrap, CASES)
    return [{"type": event_type(r).split(".")[2], **data_of(r)} for r in records if mine(r)]


async def _reported_to_probation(platform: Platform, appointment_id: str) -> dict[str, Any]:
    """The probation system's one signed delivery for this appointment, once notify sent it."""
    found = await probation_deliveries(platform, appointment_id)
    assert len(found) == 1
    return found[0]


async def _started(starts_at: datetime) -> None:
    """Wait until an appointment booked a moment ahead has started (attendance is for the past)."""
    await asyncio.sleep(max((starts_at - datetime.now(UTC)).total_seconds(), 0) + 0.05)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


# --- The journey. ---


async def test_an_rm_referral_through_every_step_to_a_completed_case(
    platform: Platform, browser: Browser
) -> None:
    created = await rm_control(platform, "/_control/referrals", {"pdu": "Salford", **SNS})
    rm_id = created["referral_id"]
    referral_id, case_id = await case_opened_for(platform, rm_id)
    case = HubCase(platform, "salford", case_id)
    opened = await read_case(case)
    assert (opened["hub_id"], opened["crn"]) == ("salford", created["crn"])
    assert opened["referral_id"] == referral_id
    assert opened["lifecycle"]["state"] == "allocated"
    other_hub = await platform.call("hub-bolton", "GET", "case", f"/cases/{case_id}")
    assert other_hub.status_code == 404

    await rm_control(
        platform, f"/_control/referrals/{rm_id}/assign", {"username": "sw.journey", **SNS}
    )
    (assigned,) = await platform.records(
        CASES,
        lambda r: (
            event_type(r) == "gmirs.case.worker-assigned.v1" and data_of(r)["case_id"] == case_id
        ),
    )
    assert (data_of(assigned)["worker"], data_of(assigned)["source"]) == (
        "sw.journey",
        "refer-and-monitor",
    )

    await _assess(case)
    await _agree_share_and_rm_approves(case, rm_id)
    missed_id = await _sessions_one_missed(case)
    await _survey_answered_in_a_browser(case, browser)
    closed = await close_case(case, "completed")
    assert closed["state"] == "closed"

    final = await read_case(case)
    await _whole_history_shows(platform, final, missed_id)


async def _assess(case: HubCase) -> None:
    assert (await record_first_contact(case))["state"] == "contacted"
    starts_at = _soon()
    assessment = await book_appointment(case, "initial-assessment", starts_at)
    assert (await read_case(case))["lifecycle"]["state"] == "initial-assessment-booked"
    await _started(starts_at)
    await record_attendance(case, assessment["id"], attended=True)
    assert (await read_case(case))["lifecycle"]["state"] == "initial-assessment-attended"
    baseline = await record_baseline_assessment(case)
    assert baseline["stage"] == "baseline"
    assert (await record_needs_assessed(case))["state"] == "needs-assessed"


async def _agree_share_and_rm_approves(case: HubCase, rm_id: str) -> None:
    assert (await agree_action_plan(case, 1, sessions=2))["state"] == "action-plan-agreed"
    assert (await share_action_plan(case, 1))["state"] == "action-plan-shared"
    plan = await rm_control(
        case.platform, f"/_control/referrals/{rm_id}/action-plans", {"number_of_sessions": 2, **SNS}
    )
    await rm_control(case.platform, f"/_control/action-plans/{plan['action_plan_id']}/approve", SNS)
    await _until(case, _in_state("action-plan-approved"))


async def _sessions_one_missed(case: HubCase) -> str:
    """Two sessions booked; the first attended (the intervention starts), the second missed."""
    first_at = _soon()
    first = await book_appointment(case, "session", first_at, session_number=1)
    second = await book_appointment(case, "session", first_at + timedelta(seconds=1), 2)
    await _started(first_at + timedelta(seconds=1))
    await record_attendance(case, first["id"], attended=True)
    assert (await read_case(case))["lifecycle"]["state"] == "in-sessions"
    missed = await record_attendance(case, second["id"], attended=False)
    assert missed["attendance"]["non_attendance"] is True

    delivery = await _reported_to_probation(case.platform, second["id"])
    assert delivery["verified"] is True
    assert delivery["body"]["type"] == "non-attendance.recorded"
    assert delivery["body"]["data"]["case_id"] == case.case_id
    (reported,) = await case.platform.records(
        NOTIFY, lambda r: data_of(r).get("appointment_id") == second["id"]
    )
    assert data_of(reported)["within_deadline"] is True
    assert (await complete_sessions(case))["state"] == "sessions-completed"
    return str(second["id"])


async def _survey_answered_in_a_browser(case: HubCase, browser: Browser) -> None:
    link = await offer_exit_survey(case)
    assert (await read_case(case))["lifecycle"]["state"] == "exit-survey-offered"
    page = await new_page(browser, case.platform.stack.url("case"))
    try:
        opened = await page.goto(link)
        assert opened is not None
        assert opened.status == 200
        for name, position in (
            ("helpfulness", 4),
            ("helped_most", 1),
            ("could_be_better", 2),
            ("would_recommend", 1),
        ):
            await page.check(f"#{name}-{position}")
        await page.fill("textarea#comments", "The weekly calls helped.")
        async with page.expect_navigation():
            await page.click("button[type=submit]")
        assert await page.locator("h1").inner_text() == "Thank you"
    finally:
        await page.context.close()
    (completed,) = await case.platform.records(
        CASES,
        lambda r: (
            event_type(r) == "gmirs.case.exit-survey-completed.v1"
            and data_of(r)["case_id"] == case.case_id
        ),
    )
    answers = data_of(completed)
    assert (answers["helpfulness"], answers["would_recommend"]) == (4, "yes")
    assert answers["left_comments"] is True


async def _whole_history_shows(platform: Platform, final: dict[str, Any], missed_id: str) -> None:
    lifecycle = final["lifecycle"]
    assert lifecycle["state"] == "closed"
    assert lifecycle["closure"]["reason"] == "completed"
    assert lifecycle["closure"]["closed_by"] == "hub"
    assert set(lifecycle["reached"]) == set(HUB_PATH)
    reached = [_time(lifecycle["reached"][state]) for state in HUB_PATH]
    assert reached == sorted(reached), lifecycle["reached"]
    appointments = {a["id"]: a for a in final["appointments"]}
    assert len(appointments) == 3
    assert [a["id"] for a in appointments.values() if a["attendance"]["non_attendance"]] == [
        missed_id
    ]

    events = await _lifecycle_events(platform, final["id"], len(HUB_PATH) - 1)
    assert [e["state"] for e in events] == list(HUB_PATH[1:])
    assert [e["source"] for e in events if e["type"] == "action-plan-approved"] == [
        "refer-and-monitor"
    ]


# --- R&M's progress out of order, every message twice. ---


async def test_rm_progress_out_of_order_and_twice_ends_right_with_each_event_once(
    platform: Platform,
) -> None:
    created = await rm_control(platform, "/_control/referrals", {"pdu": "Trafford", **SNS})
    rm = RmReferral(platform, created["referral_id"], list(created["events"]))
    _, case_id = await case_opened_for(platform, rm.rm_id)
    case = HubCase(platform, "trafford", case_id)
    r, hold = f"/_control/referrals/{rm.rm_id}", {"delivery": "hold"}

    await rm.step(f"{r}/assign", {"username": "sw.disorder"})
    recently = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    at = {"appointment_time": recently, "duration_minutes": 1}
    await rm.step(f"{r}/initial-assessment", {"attended": "yes", **at, **hold})
    plan = await rm.step(f"{r}/action-plans", {"number_of_sessions": 1, **hold})
    await rm.step(f"/_control/action-plans/{plan['action_plan_id']}/approve")
    # The approval arrives before both the plan's submission and the initial assessment.
    await _until(case, _in_state("action-plan-approved"))
    await rm.release_held()
    await _until(case, _has_reached("action-plan-shared"))
    await _until(case, _has_reached("initial-assessment-attended"))

    await rm.step(f"{r}/sessions/1", {"attended": "yes", **at})
    await rm.step(f"{r}/end-of-service-report")
    await rm.step(f"{r}/end", {"delivery_state": "COMPLETED", **hold})
    await rm.step(f"{r}/conclude", {"delivery_state": "COMPLETED"})
    # Concluded arrives before the ending that came first in R&M: the ending's time then wins.
    concluded_at = _time((await _until(case, _in_state("closed")))["lifecycle"]["since"])
    await rm.release_held()
    await _until(case, lambda lifecycle: _time(lifecycle["since"]) < concluded_at)

    seen = await intake_events_of(platform, rm.rm_id)
    assert seen["gmirs.intake.referral-ended.v1"] == 1
    await delivered_again(platform, rm)
    assert await intake_events_of(platform, rm.rm_id) == seen

    final = (await read_case(case))["lifecycle"]
    assert final["state"] == "closed"
    assert final["closure"]["reason"] == "completed"
    assert final["closure"]["closed_by"] == "refer-and-monitor"
    assert set(final["reached"]) == {
        "received",
        "allocated",
        "initial-assessment-attended",
        "action-plan-shared",
        "action-plan-approved",
        "in-sessions",
        "sessions-completed",
        "closed",
    }
    expected = Counter(
        {
            ("case-allocated", "received", "allocated"): 1,
            ("action-plan-approved", "allocated", "action-plan-approved"): 1,
            ("action-plan-shared", "action-plan-approved", "action-plan-approved"): 1,
            ("initial-assessment-attended", "action-plan-approved", "action-plan-approved"): 1,
            ("intervention-commenced", "action-plan-approved", "in-sessions"): 1,
            ("sessions-completed", "in-sessions", "sessions-completed"): 1,
            ("case-closed", "sessions-completed", "closed"): 1,
            ("case-closed", "closed", "closed"): 1,  # the ending's earlier time, processed later
        }
    )
    events = await _lifecycle_events(platform, case_id, sum(expected.values()))
    assert Counter((e["type"], e["from_state"], e["state"]) for e in events) == expected, events
