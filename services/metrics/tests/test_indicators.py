"""Appendix A indicators over a hand-worked April 2026, by SQL over the real read-model tables.

April 2026 has Good Friday (3rd) and Easter Monday (6th); British Summer Time began on 29 March,
so 23:30 UTC on 31 March is already 1 April and 23:30 UTC on 30 April is already 1 May. Early May
bank holiday is Monday 4 May. Every expected figure below is worked out by hand in the comments.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest_asyncio
from services.metrics.tests.dash_facts import Clock, Facts, dash_service

from gmirs_metrics.adapters.indicator_queries import AppendixA
from gmirs_metrics.domain.figures import Breakdown
from gmirs_runtime.testing.services import RunningService

APRIL = date(2026, 4, 1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def metrics(postgres_server, kafka_broker, token_issuer) -> AsyncIterator[RunningService]:
    async for service in dash_service(postgres_server, kafka_broker, token_issuer, Clock()):
        await _seed(Facts(service))
        yield service


async def _seed_referrals(facts: Facts) -> None:
    await facts.referral(
        at("2026-03-31T23:30"),  # 00:30 on 1 April, UK time: April
        gender="Male",
        ethnicity="White British",
        has_disability=True,
        complexity="high",
        current_location="custody",
        needs_interpreter=False,
    )
    await facts.referral(at("2026-04-30T23:30"), gender="Male")  # 1 May, UK time: not April
    await facts.referral(at("2026-03-31T22:30"), gender="Male")  # 23:30 on 31 March: not April
    await facts.referral(
        at("2026-04-10T10:00"),
        hub="bury",
        source="direct",
        gender="Female",
        complexity="low",
        needs_interpreter=True,
    )
    await facts.referral(at("2026-04-15T10:00"), hub=None, source="pilot-import", gender=" ")


async def _seed_first_contacts(facts: Facts) -> uuid.UUID:
    # Sent Thursday 2 April: two working days on are Tuesday 7 and Wednesday 8 (3 and 6 April
    # are bank holidays), so contact on the 8th is in time and on the 9th is late.
    c1 = await facts.case(
        referral_sent_at=at("2026-04-02T09:00"), first_contact_at=at("2026-04-08T15:00")
    )
    c2 = await facts.case(
        referral_sent_at=at("2026-04-02T09:00"), first_contact_at=at("2026-04-09T08:00")
    )
    c3 = await facts.case("bury", referral_sent_at=at("2026-04-20T09:00"))
    # Sent Thursday 30 April: Friday 1 May, then (Monday 4 May is a holiday) Tuesday 5 May.
    await facts.case("bury", referral_sent_at=at("2026-04-30T10:00"))
    await facts.contact(c1, at("2026-04-08T15:00"), "phone", successful=True)
    await facts.contact(c2, at("2026-04-03T10:00"), "phone", successful=False)
    await facts.contact(c2, at("2026-04-09T08:00"), "phone", successful=True)
    await facts.contact(c3, at("2026-04-21T10:00"), "text", successful=False, hub="bury")
    await facts.contact(c1, at("2026-03-31T23:30"), "email", successful=False)  # 1 April, UK
    await facts.contact(c1, at("2026-03-31T22:00"), "letter", successful=True)  # 31 March, UK
    return c3


async def _seed_closures(facts: Facts, bury_case: uuid.UUID) -> None:
    await facts.case(
        closure_reason="disengaged",
        first_contact_at=at("2026-04-03T10:00"),
        closed_at=at("2026-04-20T10:00"),
    )
    await facts.case("bury", closure_reason="declined", closed_at=at("2026-04-20T11:00"))
    await facts.case(closure_reason="inappropriate", closed_at=at("2026-04-21T10:00"))
    await facts.case(closure_reason="signposted-elsewhere", closed_at=at("2026-04-30T23:30"))
    # Completed: initial assessment 5 January, sessions completed 20 April: 105 days, and two
    # sessions attended (one late; one missed does not count; the assessment is not a session).
    completed = await facts.case(
        closure_reason="completed",
        first_contact_at=at("2026-01-02T10:00"),
        initial_assessment_attended_at=at("2026-01-05T10:00"),
        intervention_commenced_at=at("2026-02-01T10:00"),
        sessions_completed_at=at("2026-04-20T10:00"),
        closed_at=at("2026-04-22T10:00"),
    )
    for starts, attended in (("04-01", "yes"), ("04-08", "late"), ("04-15", "no")):
        await facts.appointment(completed, at(f"2026-{starts}T10:00"), attended=attended)
    await facts.appointment(completed, at("2026-01-05T10:00"), kind="initial-assessment")
    # Withdrawn: assessed 1 April, closed 23 April with no sessions: 22 days.
    withdrawn = await facts.case(
        closure_reason="withdrawn",
        initial_assessment_attended_at=at("2026-04-01T10:00"),
        closed_at=at("2026-04-23T10:00"),
    )
    await facts.appointment(withdrawn, at("2026-04-01T10:00"), kind="initial-assessment")
    await facts.case(intervention_commenced_at=at("2026-04-10T10:00"))
    await facts.onward(completed, at("2026-04-10T10:00"), "Shelter", "shelter-and-accommodation")
    await facts.onward(completed, at("2026-04-11T10:00"), "Shelter", "finance-and-benefits")
    await facts.onward(completed, at("2026-05-11T10:00"), "Shelter", "finance-and-benefits")
    await facts.onward(
        bury_case, at("2026-04-12T10:00"), "Citizens Advice", "finance-and-benefits", hub="bury"
    )


async def _seed(facts: Facts) -> None:
    await _seed_referrals(facts)
    await _seed_closures(facts, await _seed_first_contacts(facts))


async def _breakdowns(service: RunningService, as_of: str) -> dict[str, Breakdown]:
    async with service.infra.unit_of_work() as uow:
        found = await AppendixA(uow.session, first_contact_working_days=2).breakdowns(
            APRIL, as_of=at(as_of)
        )
    return {b.indicator: b for b in found}


def nonzero(breakdown: Breakdown) -> dict[tuple[str, str], int]:
    """The table's non-empty cells, (row, column) -> count."""
    return {
        (row, column): value
        for row, values in zip(breakdown.row_labels, breakdown.cells, strict=True)
        for column, value in zip(breakdown.column_labels, values, strict=True)
        if value
    }


async def test_referrals_count_in_the_uk_month_they_were_sent_by_borough_and_source(
    metrics,
) -> None:
    found = await _breakdowns(metrics, "2026-05-10T09:00")
    a1 = found["A1"]
    assert a1.row_labels == ["refer-and-monitor", "direct", "pilot-import"]
    assert a1.column_labels[-1] == "unrouted"
    assert len(a1.column_labels) == 11
    assert nonzero(a1) == {
        ("refer-and-monitor", "bolton"): 1,
        ("direct", "bury"): 1,
        ("pilot-import", "unrouted"): 1,
    }
    assert not a1.small_groups


async def test_equality_and_vulnerability_breakdowns_are_marked_small_groups(metrics) -> None:
    found = await _breakdowns(metrics, "2026-05-10T09:00")
    assert found["A2-gender"].row_labels == ["Female", "Male", "not recorded"]
    assert nonzero(found["A2-gender"]) == {
        ("Male", "bolton"): 1,
        ("Female", "bury"): 1,
        ("not recorded", "unrouted"): 1,
    }
    assert nonzero(found["A2-ethnicity"]) == {
        ("White British", "bolton"): 1,
        ("not recorded", "bury"): 1,
        ("not recorded", "unrouted"): 1,
    }
    assert nonzero(found["A2-disability"]) == {
        ("disability recorded", "bolton"): 1,
        ("not known", "bury"): 1,
        ("not known", "unrouted"): 1,
    }
    assert nonzero(found["A4-complexity"]) == {
        ("high", "bolton"): 1,
        ("low", "bury"): 1,
        ("not recorded", "unrouted"): 1,
    }
    assert nonzero(found["A4-interpreter"]) == {
        ("does not", "bolton"): 1,
        ("needs an interpreter", "bury"): 1,
        ("not known", "unrouted"): 1,
    }
    assert found["A4-custody"].cells[0][0] == 1
    small = {b.indicator for b in found.values() if b.small_groups}
    assert {"A2-gender", "A2-ethnicity", "A2-disability", "A4-complexity", "A6"} <= small
    assert {"A1", "A7", "A9"}.isdisjoint(small)


async def test_what_the_events_do_not_carry_is_not_collected_never_invented(metrics) -> None:
    found = await _breakdowns(metrics, "2026-05-10T09:00")
    for indicator in ("A2-age", "A2-religion", "A2-sexual-orientation", "A3", "A4-risk"):
        breakdown = found[indicator]
        assert breakdown.not_collected, indicator
        assert breakdown.row_labels == []
        assert breakdown.cells == []
    assert "crime type" in (found["A3"].not_collected or "")
    assert all(b.not_collected is None for k, b in found.items() if k == "A1")


async def test_closures_give_unsuitable_disengaged_at_which_point_and_not_completing(
    metrics,
) -> None:
    found = await _breakdowns(metrics, "2026-05-10T09:00")
    assert nonzero(found["A5"]) == {("inappropriate", "bolton"): 1}  # signposted closed in May
    assert nonzero(found["A6"]) == {
        ("disengaged: after first contact, before the initial assessment", "bolton"): 1,
        ("declined: before first contact", "bury"): 1,
    }
    assert len(found["A6"].row_labels) == 10
    assert nonzero(found["A10"]) == {
        ("disengaged", "bolton"): 1,
        ("declined", "bury"): 1,
        ("inappropriate", "bolton"): 1,
        ("withdrawn", "bolton"): 1,
    }
    assert "completed" not in found["A10"].row_labels


async def test_contacts_by_method_count_the_unsuccessful_attempts(metrics) -> None:
    found = await _breakdowns(metrics, "2026-05-10T09:00")
    assert nonzero(found["A7"]) == {
        ("phone: successful", "bolton"): 2,
        ("phone: unsuccessful", "bolton"): 1,
        ("email: unsuccessful", "bolton"): 1,  # 23:30 UTC on 31 March is April in the UK
        ("text: unsuccessful", "bury"): 1,
    }


async def test_contact_within_the_agreed_working_days_skips_bank_holidays(metrics) -> None:
    on_5_may = nonzero((await _breakdowns(metrics, "2026-05-05T12:00"))["A8"])
    assert on_5_may == {
        ("contacted within the agreed time", "bolton"): 1,
        ("contacted after the agreed time", "bolton"): 1,
        ("not contacted, agreed time passed", "bury"): 1,
        ("not contacted yet, still within the agreed time", "bury"): 1,
    }
    on_6_may = nonzero((await _breakdowns(metrics, "2026-05-06T08:00"))["A8"])
    assert on_6_may[("not contacted, agreed time passed", "bury")] == 2


async def test_support_onward_referrals_and_length_of_support(metrics) -> None:
    found = await _breakdowns(metrics, "2026-05-10T09:00")
    assert nonzero(found["A9"]) == {
        ("attended an appointment in the month", "bolton"): 2,  # each person once
        ("began the intervention in the month", "bolton"): 1,
    }
    assert nonzero(found["A11-agency"]) == {
        ("Shelter", "bolton"): 2,
        ("Citizens Advice", "bury"): 1,
    }
    assert nonzero(found["A11-need"]) == {
        ("finance-and-benefits", "bolton"): 1,
        ("finance-and-benefits", "bury"): 1,
        ("shelter-and-accommodation", "bolton"): 1,
    }
    assert nonzero(found["A17-length"]) == {
        ("12 weeks to 6 months", "bolton"): 1,  # 105 days
        ("under 6 weeks", "bolton"): 1,  # 22 days
    }
    assert nonzero(found["A17-sessions"]) == {
        ("1 to 5 sessions", "bolton"): 1,
        ("no sessions attended", "bolton"): 1,
    }
    mean = found["A17-mean"]
    assert not mean.counts
    assert nonzero(mean) == {
        ("people whose support ended", "bolton"): 2,
        ("mean days of support", "bolton"): 64,  # (105 + 22) / 2 = 63.5
        ("mean sessions attended", "bolton"): 1,
    }


async def test_breakdowns_come_in_indicator_order(metrics) -> None:
    async with metrics.infra.unit_of_work() as uow:
        found = await AppendixA(uow.session, first_contact_working_days=2).breakdowns(
            APRIL, as_of=at("2026-05-10T09:00")
        )
    numbers = [int(b.indicator[1:].split("-")[0]) for b in found]
    assert numbers == sorted(numbers)
    assert set(numbers) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17}


async def test_the_dashboard_draws_its_trends_from_these_facts_by_default(metrics) -> None:
    async with metrics.as_client("lead-provider-ann", ["lead-provider"]) as http:
        page = await http.get("/dashboard", params={"month": "2026-04"})
    assert page.status_code == 200, page.text
    # Bolton: one referral sent at 23:30 on 31 March (UK), one at 00:30 on 1 April (UK).
    assert "Referrals received in Bolton: Nov 0, Dec 0, Jan 0, Feb 0, Mar 1, Apr 1" in page.text
    assert "Referrals received in Bury: Nov 0, Dec 0, Jan 0, Feb 0, Mar 0, Apr 1" in page.text
