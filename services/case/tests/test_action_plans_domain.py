"""The action plan's rules on their own: numbering, revisions, sharing and approval, content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gmirs_case.domain.action_plans import (
    MAX_ACTIVITIES,
    MAX_GOALS,
    ActionPlan,
    Activity,
    Goal,
    InvalidPlanError,
    PlanConflictError,
    PlanNotFoundError,
    agree,
    approve,
    share,
)
from gmirs_case.domain.outcomes import OutcomeArea

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
HOUSING, MONEY, HEALTH = (
    OutcomeArea.SHELTER_AND_ACCOMMODATION,
    OutcomeArea.FINANCE_AND_BENEFITS,
    OutcomeArea.PHYSICAL_HEALTH,
)


def _day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def _agree(plans: list[ActionPlan], at: datetime, **changes: Any) -> ActionPlan:
    content: dict[str, Any] = {
        "goals": [Goal(MONEY, "Claim what is due"), Goal(HOUSING, "Find a flat", "By March")],
        "activities": [Activity("Benefits check", MONEY), Activity("Weekly check-in")],
        "number_of_sessions": 6,
        "agreed_by": "caseworker.bolton",
    }
    return agree(plans, **(content | changes), agreed_at=at, now=_day(30))


def test_the_server_numbers_versions_and_each_revises_the_one_before() -> None:
    plans: list[ActionPlan] = []
    for n in range(1, 6):
        plans.append(_agree(plans, _day(n)))
    assert [(p.version, p.revises) for p in plans] == [(1, None), (2, 1), (3, 2), (4, 3), (5, 4)]
    assert len({p.id for p in plans}) == 5
    assert plans[0].recorded_at == _day(30)
    with pytest.raises(PlanConflictError, match="agreed later"):
        _agree(plans, _day(4.5))


def test_the_outline_names_areas_in_the_specifications_order_and_counts_no_text() -> None:
    plan = _agree([], _day(1))
    outline = plan.outline()
    assert outline.outcome_areas == (HOUSING, MONEY)
    assert (outline.version, outline.number_of_sessions, outline.activity_count) == (1, 6, 2)
    assert outline.plan_id == plan.id


def test_only_the_latest_version_is_shared_once_then_approved_once() -> None:
    first = _agree([], _day(1))
    plans = [first, _agree([first], _day(2))]
    with pytest.raises(PlanNotFoundError):
        share(plans, 3, occurred_at=_day(3), now=_day(30))
    with pytest.raises(PlanConflictError, match="superseded by version 2"):
        share(plans, 1, occurred_at=_day(3), now=_day(30))
    with pytest.raises(PlanConflictError, match="not been shared"):
        approve(plans, 2, occurred_at=_day(3), now=_day(30))
    with pytest.raises(InvalidPlanError, match="before it was agreed"):
        share(plans, 2, occurred_at=_day(1.5), now=_day(30))
    with pytest.raises(InvalidPlanError, match="future"):
        share(plans, 2, occurred_at=_day(31), now=_day(30))
    shared = share(plans, 2, occurred_at=_day(3), now=_day(4))
    assert (shared.shared_at, shared.shared_recorded_at, shared.goals) == (
        _day(3),
        _day(4),
        plans[1].goals,
    )
    plans[1] = shared
    with pytest.raises(PlanConflictError, match="already shared"):
        share(plans, 2, occurred_at=_day(5), now=_day(30))
    with pytest.raises(InvalidPlanError, match="before it was shared"):
        approve(plans, 2, occurred_at=_day(2.5), now=_day(30))
    plans[1] = approve(plans, 2, occurred_at=_day(6), now=_day(7))
    assert (plans[1].approved_at, plans[1].approved_recorded_at) == (_day(6), _day(7))
    with pytest.raises(PlanConflictError, match="already approved"):
        approve(plans, 2, occurred_at=_day(8), now=_day(30))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"goals": []}, "1 to 36 goals"),
        ({"goals": [Goal(HEALTH, f"Goal {n}") for n in range(MAX_GOALS + 1)]}, "goals"),
        ({"activities": []}, "activities"),
        ({"activities": [Activity("Go")] * (MAX_ACTIVITIES + 1)}, "activities"),
        ({"number_of_sessions": 0}, "sessions"),
        ({"number_of_sessions": 101}, "sessions"),
        ({"number_of_sessions": True}, "sessions"),
        ({"agreed_by": " "}, "blank"),
        ({"goals": [Goal(MONEY, "\t")]}, "blank"),
        ({"goals": [Goal(MONEY, "Save", " ")]}, "target"),
        ({"goals": [Goal(MONEY, "Save"), Goal(MONEY, " save ")]}, "twice"),
        ({"activities": [Activity("See a GP", HEALTH)]}, "physical-health"),
    ],
)
def test_content_rules(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidPlanError, match=reason):
        _agree([], _day(1), **changes)


def test_times_carry_an_offset_and_are_not_in_the_future() -> None:
    with pytest.raises(InvalidPlanError, match="offset"):
        _agree([], datetime(2026, 11, 2, 10, 0))
    with pytest.raises(InvalidPlanError, match="future"):
        _agree([], _day(31))
