"""The projection's merge rules on real PostgreSQL: duplicates, any order, any batch boundaries.

Events go through the projection's own code (`facts_of`, `fold`, `FactWriter`) without the
broker or the inbox, so what is proved here is that the rows themselves are idempotent and
order independent; test_projection_consumption.py proves the same through the broker.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gmirs_contracts.example_ids import APPOINTMENT_ID
from gmirs_metrics.bootstrap import MIGRATIONS
from gmirs_runtime.db import create_engine
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.migrations import upgrade

from .stories import Story, apply, fact_rows

LIFECYCLE = "gmirs.case.{}.v1"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "metrics")
    engine = create_engine(database_url, schema="metrics", application_name="test")
    yield engine
    await engine.dispose()


async def rows(engine: AsyncEngine, story: Story) -> dict[str, Any]:
    async with engine.connect() as conn:
        return await fact_rows(conn, story.ids)


async def test_every_fact_table_is_filled_by_the_examples(engine) -> None:
    story = Story()
    await apply(engine, [story.events()])
    found = await rows(engine, story)
    assert {table: len(r) for table, r in found.items() if not r} == {}
    async with engine.connect() as conn:
        case = (
            await conn.execute(
                text("SELECT * FROM case_facts WHERE case_id = :id"), {"id": story.case_id}
            )
        ).one()
    assert case.opened_at is not None
    assert case.closed_at is not None
    assert case.initial_assessments_missed == 1
    assert case.referral_sent_at is not None
    assert case.state is not None


async def test_duplicates_order_and_batches_do_not_change_the_rows(engine) -> None:
    """One story told five ways into five sets of ids; the rows, ids aside, are the same."""
    tellings: list[tuple[Story, list[list[Event]]]] = []
    for arrange in (_in_order, _one_per_batch, _reversed, _shuffled, _each_twice):
        story = Story()
        tellings.append((story, arrange(story.events())))
    for _, batches in tellings:
        await apply(engine, batches)
    shapes = [_without_ids(await rows(engine, story), story) for story, _ in tellings]
    assert all(shape == shapes[0] for shape in shapes[1:])


def _in_order(events: list[Event]) -> list[list[Event]]:
    return [events]


def _one_per_batch(events: list[Event]) -> list[list[Event]]:
    return [[e] for e in events]


def _reversed(events: list[Event]) -> list[list[Event]]:
    return [[e] for e in reversed(events)]


def _shuffled(events: list[Event]) -> list[list[Event]]:
    mixed = random.Random(12).sample(events, len(events))
    return [mixed[:7], mixed[7:20], mixed[20:]]


def _each_twice(events: list[Event]) -> list[list[Event]]:
    return [events + events[::-1], events]


def _without_ids(found: dict[str, Any], story: Story) -> dict[str, Any]:
    """Rows with the story's ids (and each row's ids) replaced by their example ids' places."""
    names = {str(new): "id" for new in story.ids}
    return {
        table: sorted(tuple(names.get(v, v) for v in row) for row in table_rows)
        for table, table_rows in found.items()
    }


async def _case(engine: AsyncEngine, case_id: uuid.UUID) -> Any:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT * FROM case_facts WHERE case_id = :id"), {"id": case_id}
        )
        return result.one()


async def test_a_milestone_keeps_its_earliest_time_in_either_order(engine) -> None:
    early, late = datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 5, 9, tzinfo=UTC)
    for order in (1, -1):
        story = Story()
        events = [
            story.event(LIFECYCLE.format("first-contact-made"), occurred_at=t.isoformat())
            for t in (early, late)
        ]
        await apply(engine, [[e] for e in events[::order]])
        assert (await _case(engine, story.case_id)).first_contact_at == early


async def test_case_closed_before_case_opened_gives_one_complete_row(engine) -> None:
    story = Story()
    closed = story.event(LIFECYCLE.format("case-closed"))
    opened = story.event("gmirs.case.case-opened.v1")
    await apply(engine, [[closed], [opened]])
    case = await _case(engine, story.case_id)
    assert case.state == "closed"
    assert case.opened_at is not None
    assert case.closed_at is not None
    assert case.probation_delivery_unit is not None


async def test_hub_and_state_follow_the_latest_recorded_event(engine) -> None:
    story = Story()
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    moved = story.event(
        LIFECYCLE.format("case-reallocated"),
        hub_id="wigan",
        previous_hub_id="bolton",
        state="allocated",
        recorded_at=(at + timedelta(days=1)).isoformat(),
    )
    before = story.event(
        LIFECYCLE.format("case-allocated"), hub_id="bolton", recorded_at=at.isoformat()
    )
    await apply(engine, [[moved], [before]])
    case = await _case(engine, story.case_id)
    assert (case.hub_id, case.state) == ("wigan", "allocated")


async def test_a_settled_closure_reason_beats_a_provisional_one_in_either_order(engine) -> None:
    for order in (1, -1):
        story = Story()
        at = datetime(2026, 4, 1, 9, tzinfo=UTC)
        provisional = story.event(
            LIFECYCLE.format("case-closed"),
            closure_reason="ended-in-rm",
            reason_settled=False,
            recorded_at=(at + timedelta(hours=2)).isoformat(),
        )
        settled = story.event(
            LIFECYCLE.format("case-closed"),
            closure_reason="withdrawn",
            reason_settled=True,
            rm_withdrawal_code="INE",
            recorded_at=at.isoformat(),
        )
        await apply(engine, [[e] for e in [provisional, settled][::order]])
        case = await _case(engine, story.case_id)
        assert (case.closure_reason, case.rm_withdrawal_code) == ("withdrawn", "INE")


async def test_missed_assessments_are_counted_once_each(engine) -> None:
    story = Story()
    missed = story.event(LIFECYCLE.format("initial-assessment-missed"))
    again = story.event(LIFECYCLE.format("initial-assessment-missed"))
    await apply(engine, [[missed, missed], [missed], [again]])
    assert (await _case(engine, story.case_id)).initial_assessments_missed == 2


async def test_a_correction_marks_the_assessment_it_replaces_whichever_comes_first(engine) -> None:
    story = Story()
    original = story.event("gmirs.case.outcome-assessment-recorded.v1", corrects=None)
    first_id = original.data["assessment_id"]
    correction = story.event(
        "gmirs.case.outcome-assessment-recorded.v1",
        assessment_id=str(uuid.uuid4()),
        corrects=first_id,
    )
    await apply(engine, [[correction], [original]])
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT assessment_id, corrected_by FROM outcome_assessment_facts"
                " WHERE case_id = :id"
            ),
            {"id": story.case_id},
        )
        found = {str(a): str(c) if c else None for a, c in result}
    assert found == {
        first_id: correction.data["assessment_id"],
        correction.data["assessment_id"]: None,
    }


async def test_an_onward_referral_outcome_before_the_referral_completes_one_row(engine) -> None:
    story = Story()
    made = story.event("gmirs.case.onward-referral-made.v1", outcome="pending")
    later = datetime.fromisoformat(made.data["recorded_at"]) + timedelta(days=3)
    outcome = story.event(
        "gmirs.case.onward-referral-outcome-recorded.v1",
        onward_referral_id=made.data["onward_referral_id"],
        outcome="accepted",
        recorded_at=later.isoformat(),
    )
    await apply(engine, [[outcome], [made]])
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT agency, outcome FROM onward_referral_facts WHERE case_id = :id"),
                {"id": story.case_id},
            )
        ).one()
    assert (row.outcome, row.agency) == ("accepted", made.data["agency"])


async def test_an_appointment_keeps_its_latest_times_and_its_attendance(engine) -> None:
    story = Story()
    appointment = story.map(APPOINTMENT_ID)
    events = story.events(
        [
            "gmirs.case.appointment-rescheduled.v1",
            "gmirs.case.appointment-booked.v1",
            "gmirs.case.attendance-recorded.v1",
        ]
    )
    await apply(engine, [[e] for e in events])
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM appointment_facts WHERE appointment_id = :id"),
                {"id": appointment},
            )
        ).one()
    rescheduled, attendance = events[0].data, events[2].data
    assert row.booked_at is not None
    assert row.attended == attendance["attended"]
    latest = max(events, key=_times_seen_at)
    assert row.starts_at == _times_seen_at(latest)[1]
    assert rescheduled["starts_at"] != events[1].data["starts_at"]


def _times_seen_at(event: Event) -> tuple[datetime, datetime]:
    """When the event saw the appointment's times, and the start it saw."""
    data = event.data
    seen = data.get("booked_at") or data["recorded_at"]
    starts = data.get("starts_at") or data["appointment_starts_at"]
    return datetime.fromisoformat(seen), datetime.fromisoformat(starts)


def _assessment(
    story: Story,
    stage: str,
    day: int,
    scores: dict[str, tuple[int, int]],
    corrects: str | None = None,
) -> Event:
    areas = [
        {"area": a, "complexity": "low", "self_score": s, "staff_score": t}
        for a, (s, t) in scores.items()
    ]
    at = datetime(2026, 3, day, 10, tzinfo=UTC).isoformat()
    return story.event(
        "gmirs.case.outcome-assessment-recorded.v1",
        assessment_id=str(uuid.uuid4()),
        stage=stage,
        areas=areas,
        corrects=corrects,
        occurred_at=at,
        recorded_at=at,
    )


async def _kpi_inputs(engine: AsyncEngine, story: Story) -> tuple[Any, ...]:
    async with engine.connect() as conn:
        first = await conn.scalar(
            text("SELECT first_baseline_at FROM case_facts WHERE case_id = :id"),
            {"id": story.case_id},
        )
        exit_row = (
            await conn.execute(
                text(
                    "SELECT changed_areas, self_changes, staff_changes, self_mean, staff_mean"
                    " FROM outcome_assessment_facts"
                    " WHERE case_id = :id AND stage = 'exit'"
                ),
                {"id": story.case_id},
            )
        ).one()
    return (first, *exit_row)


async def test_kpi_inputs_settle_to_the_same_values_in_any_order(engine) -> None:
    """A case's earliest baseline (DS4) and its exit's change from the earliest baseline per
    area scored at both and their mean (distance travelled), whichever of the case, the exit and the two
    baselines arrives first; a correction of the earliest baseline moves the changes only."""
    expected = (
        datetime(2026, 3, 2, 10, tzinfo=UTC),
        ["drugs-and-alcohol", "physical-health"],
        [4, 1],
        [2, 0],
        Decimal("2.5"),
        Decimal(1),
    )
    for order in (1, -1, 0):
        story = Story()
        opened = story.event(LIFECYCLE.format("case-opened"))
        later = _assessment(story, "baseline", 9, {"physical-health": (1, 1)})
        exit_ = _assessment(
            story,
            "exit",
            20,
            {
                "physical-health": (5, 5),
                "drugs-and-alcohol": (6, 4),
                "finance-and-benefits": (2, 2),
            },
        )
        first = _assessment(
            story, "baseline", 2, {"physical-health": (4, 5), "drugs-and-alcohol": (2, 2)}
        )
        events = [opened, later, exit_, first]
        await apply(engine, [events] if order == 0 else [[e] for e in events[::order]])
        assert await _kpi_inputs(engine, story) == expected
    replaced = first.data["assessment_id"]
    correction = _assessment(story, "baseline", 3, {"physical-health": (2, 2)}, replaced)
    await apply(engine, [[correction]])
    assert await _kpi_inputs(engine, story) == (
        expected[0],
        ["physical-health"],
        [3],
        [3],
        Decimal(3),
        Decimal(3),
    )
