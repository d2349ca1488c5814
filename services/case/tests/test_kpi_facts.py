"""KPI facts kept on the case: outcomes achieved (DS5) from the hub and from R&M's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gmirs_case.domain.achievement import InvalidAchievementError, OutcomeAchievement
from gmirs_case.domain.commands import CompleteSessions
from gmirs_case.domain.lifecycle import CaseState, Lifecycle, decide
from gmirs_case.domain.rm_progress import RmFact, RmFactKind, apply_rm_fact
from gmirs_case.handlers.rm_progress import facts_of
from gmirs_contracts import intake_progress
from gmirs_contracts.examples import example_data

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = SENT + timedelta(days=120)


def _in_sessions() -> Lifecycle:
    at = SENT + timedelta(days=30)
    return Lifecycle(
        CaseState.IN_SESSIONS, at, {CaseState.RECEIVED: SENT, CaseState.IN_SESSIONS: at}
    )


def test_outcome_counts_give_rms_score_and_refuse_nonsense() -> None:
    assert OutcomeAchievement(2, 1, 3).achievement_score == 2.5
    for counts in ((0, 0, 0), (-1, 2, 0), (30, 20, 1)):
        with pytest.raises(InvalidAchievementError):
            OutcomeAchievement(*counts)
    levels = ["achieved", "not-achieved", "partially-achieved", "achieved"]
    assert OutcomeAchievement.of_levels(levels) == OutcomeAchievement(2, 1, 1)
    assert OutcomeAchievement.of_levels([]) is None


def test_the_hub_records_outcomes_when_it_completes_the_sessions() -> None:
    outcomes = OutcomeAchievement(1, 1, 0)
    done = SENT + timedelta(days=60)
    after, event = decide(_in_sessions(), CompleteSessions(done, outcomes), now=NOW)
    assert after.state is CaseState.SESSIONS_COMPLETED
    assert after.outcomes == event.lifecycle.outcomes == outcomes
    without, _ = decide(_in_sessions(), CompleteSessions(done), now=NOW)
    assert without.outcomes is None


def test_rms_end_of_service_report_replaces_the_hubs_outcomes_once() -> None:
    done = SENT + timedelta(days=60)
    hub, _ = decide(_in_sessions(), CompleteSessions(done, OutcomeAchievement(1, 0, 1)), now=NOW)
    report = RmFact(
        RmFactKind.END_OF_SERVICE_REPORT_SUBMITTED, done, outcomes=OutcomeAchievement(2, 0, 0)
    )
    after, events = apply_rm_fact(hub, report, now=NOW)
    assert after.outcomes == OutcomeAchievement(2, 0, 0)
    assert [(e.from_state, e.to_state) for e in events] == [(CaseState.SESSIONS_COMPLETED,) * 2]
    assert apply_rm_fact(after, report, now=NOW) == (after, [])  # a redelivery changes nothing


def test_an_end_of_service_report_event_becomes_a_fact_with_its_outcome_counts() -> None:
    data = example_data("gmirs.intake.end-of-service-report-submitted.v1")
    report = intake_progress.EndOfServiceReportSubmitted.model_validate(data)
    [fact] = facts_of(report)
    levels = [outcome.achievement_level for outcome in report.outcomes]
    assert fact.kind is RmFactKind.END_OF_SERVICE_REPORT_SUBMITTED
    assert fact.outcomes == OutcomeAchievement.of_levels(levels)
    assert fact.outcomes is not None
    assert fact.outcomes.achievement_score == report.achievement_score
