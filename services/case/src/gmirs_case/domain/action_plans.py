"""An action plan: what a person on probation agreed with their worker to work on, in versions.

A version holds goals per outcome area (the specification's twelve; each goal a short
description and optionally a target), the activities that serve them (each optionally tied to
one of the goals' areas), the number of sessions, who agreed it with the person, when it was
agreed (`agreed_at`, in the world) and when the platform learned it (`recorded_at`). Rules:

- The platform numbers the versions 1, 2, 3 ... per case: a new version revises the latest
  one, and cannot have been agreed before it. A version's content never changes once agreed;
  a change is a new version, and every version stays on record.
- Only the latest version is shared with the probation practitioner, once; only a shared
  version is approved, once, and not before it was shared. Whether the case's state allows the
  move is the lifecycle's decision (its commands carry `outline()`), not this module's.
- Events carry the outline (areas, counts, version), never the goals' or activities' text.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from gmirs_case.domain.model import CaseError
from gmirs_case.domain.outcomes import OutcomeArea

MAX_GOALS: Final = 36
MAX_ACTIVITIES: Final = 50
MAX_SESSIONS: Final = 100
AREA_ORDER: Final = tuple(OutcomeArea)


class InvalidPlanError(CaseError):
    """The plan (or the time given) breaks a rule of its own content (a 422)."""


class PlanConflictError(CaseError):
    """The request does not fit the plan's versions so far (a 409)."""


class PlanNotFoundError(CaseError):
    """The case has no action plan of that version (a 404)."""


@dataclass(frozen=True, slots=True)
class Goal:
    area: OutcomeArea
    description: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    description: str
    area: OutcomeArea | None = None


@dataclass(frozen=True, slots=True)
class PlanOutline:
    """What events say about a version: enough for a notification, no free text."""

    plan_id: uuid.UUID
    version: int
    number_of_sessions: int
    outcome_areas: tuple[OutcomeArea, ...]
    activity_count: int


@dataclass(frozen=True, slots=True)
class ActionPlan:
    """One agreed version; `shared_*` and `approved_*` are filled in once, content never."""

    id: uuid.UUID
    version: int
    goals: tuple[Goal, ...]
    activities: tuple[Activity, ...]
    number_of_sessions: int
    agreed_by: str
    agreed_at: datetime
    recorded_at: datetime
    shared_at: datetime | None = None
    shared_recorded_at: datetime | None = None
    approved_at: datetime | None = None
    approved_recorded_at: datetime | None = None

    @property
    def revises(self) -> int | None:
        """The version this one replaced (none for the first)."""
        return self.version - 1 if self.version > 1 else None

    @property
    def outcome_areas(self) -> tuple[OutcomeArea, ...]:
        """The areas the goals cover, once each, in the specification's order."""
        covered = {goal.area for goal in self.goals}
        return tuple(area for area in AREA_ORDER if area in covered)

    @property
    def activity_count(self) -> int:
        return len(self.activities)

    def outline(self) -> PlanOutline:
        return PlanOutline(
            self.id, self.version, self.number_of_sessions, self.outcome_areas, self.activity_count
        )


def latest(plans: Sequence[ActionPlan]) -> ActionPlan | None:
    return max(plans, key=lambda plan: plan.version, default=None)


def agree(
    plans: Sequence[ActionPlan],
    *,
    goals: Sequence[Goal],
    activities: Sequence[Activity],
    number_of_sessions: int,
    agreed_by: str,
    agreed_at: datetime,
    now: datetime,
) -> ActionPlan:
    """The next version of the case's plan (version 1 if it has none), or why it cannot be."""
    _check_time(agreed_at, now, "agreed")
    _check_content(goals, activities, number_of_sessions, agreed_by)
    previous = latest(plans)
    if previous is not None and agreed_at < previous.agreed_at:
        raise PlanConflictError(
            f"version {previous.version + 1} would revise version {previous.version}, "
            f"which was agreed later ({previous.agreed_at.isoformat()})"
        )
    version = previous.version + 1 if previous is not None else 1
    return ActionPlan(
        uuid.uuid4(),
        version,
        tuple(goals),
        tuple(activities),
        number_of_sessions,
        agreed_by,
        agreed_at,
        now,
    )


def share(
    plans: Sequence[ActionPlan], version: int, *, occurred_at: datetime, now: datetime
) -> ActionPlan:
    """The latest version, shared with the probation practitioner at `occurred_at`."""
    plan = _current(plans, version)
    _check_time(occurred_at, now, "shared")
    if plan.shared_at is not None:
        raise PlanConflictError(
            f"version {version} was already shared ({plan.shared_at.isoformat()})"
        )
    if occurred_at < plan.agreed_at:
        raise InvalidPlanError(f"version {version} cannot be shared before it was agreed")
    return replace(plan, shared_at=occurred_at, shared_recorded_at=now)


def approve(
    plans: Sequence[ActionPlan], version: int, *, occurred_at: datetime, now: datetime
) -> ActionPlan:
    """The latest version, approved by the probation practitioner at `occurred_at`."""
    plan = _current(plans, version)
    _check_time(occurred_at, now, "approved")
    if plan.shared_at is None:
        raise PlanConflictError(f"version {version} has not been shared yet")
    if plan.approved_at is not None:
        raise PlanConflictError(
            f"version {version} was already approved ({plan.approved_at.isoformat()})"
        )
    if occurred_at < plan.shared_at:
        raise InvalidPlanError(f"version {version} cannot be approved before it was shared")
    return replace(plan, approved_at=occurred_at, approved_recorded_at=now)


def _current(plans: Sequence[ActionPlan], version: int) -> ActionPlan:
    plan = next((p for p in plans if p.version == version), None)
    if plan is None:
        raise PlanNotFoundError(f"the case has no action plan version {version}")
    newest = latest(plans)
    if newest is not None and newest.version != version:
        raise PlanConflictError(
            f"version {version} is superseded by version {newest.version}; "
            "only the latest version is shared and approved"
        )
    return plan


def _check_time(occurred_at: datetime, now: datetime, what: str) -> None:
    if occurred_at.tzinfo is None:
        raise InvalidPlanError("times must carry a UTC offset")
    if occurred_at > now:
        raise InvalidPlanError(f"a plan cannot be {what} in the future")


def _check_content(
    goals: Sequence[Goal], activities: Sequence[Activity], sessions: int, agreed_by: str
) -> None:
    if not 1 <= len(goals) <= MAX_GOALS:
        raise InvalidPlanError(f"a plan has 1 to {MAX_GOALS} goals")
    if not 1 <= len(activities) <= MAX_ACTIVITIES:
        raise InvalidPlanError(f"a plan has 1 to {MAX_ACTIVITIES} activities")
    if type(sessions) is not int or not 1 <= sessions <= MAX_SESSIONS:
        raise InvalidPlanError(f"a plan has 1 to {MAX_SESSIONS} sessions")
    texts = [agreed_by, *(g.description for g in goals), *(a.description for a in activities)]
    if any(not text.strip() for text in texts):
        raise InvalidPlanError("goals, activities and agreed_by cannot be blank")
    if any(g.target is not None and not g.target.strip() for g in goals):
        raise InvalidPlanError("a goal's target is left out, not blank")
    if len({(g.area, g.description.strip().casefold()) for g in goals}) != len(goals):
        raise InvalidPlanError("the same goal appears twice in one outcome area")
    covered = {g.area for g in goals}
    stray = sorted({a.area.value for a in activities if a.area and a.area not in covered})
    if stray:
        raise InvalidPlanError(f"activities name areas with no goal: {', '.join(stray)}")
