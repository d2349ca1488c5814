"""The pure rules of contacts, the distance-travelled tool and consent, on hand-worked cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from gmirs_case.domain.consent import (
    Consent,
    ConsentAlreadyWithdrawnError,
    ConsentError,
    ShareScope,
    give_consent,
    may_share,
    withdraw,
)
from gmirs_case.domain.contacts import (
    ContactInFutureError,
    ContactMethod,
    ContactOutcome,
    attempt_contact,
)
from gmirs_case.domain.distance import Scores, distance_travelled
from gmirs_case.domain.onward_referrals import ReferralOutcome, SharingRefusedError, refer_onward
from gmirs_case.domain.outcomes import (
    AreaScore,
    AssessmentConflictError,
    AssessmentStage,
    Complexity,
    InvalidAssessmentError,
    OutcomeArea,
    OutcomeAssessment,
    assess,
)
from gmirs_contracts import common

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOUSING, MONEY, HEALTH = (
    OutcomeArea.SHELTER_AND_ACCOMMODATION,
    OutcomeArea.FINANCE_AND_BENEFITS,
    OutcomeArea.PHYSICAL_HEALTH,
)
BASELINE, REVIEW, EXIT = AssessmentStage


def _score(
    area: OutcomeArea, self_score: int, staff: int, c: Complexity | None = None
) -> AreaScore:
    return AreaScore(area, c, self_score, staff)


def _record(
    done: list[OutcomeAssessment],
    stage: AssessmentStage,
    *scores: AreaScore,
    day: int,
    corrects: uuid.UUID | None = None,
) -> OutcomeAssessment:
    at = NOW - timedelta(days=30 - day)
    made = assess(done, stage=stage, areas=scores, occurred_at=at, now=NOW, corrects=corrects)
    done.append(made)
    return made


def test_the_vocabularies_are_the_published_ones() -> None:
    assert [a.value for a in OutcomeArea] == list(get_args(common.OutcomeArea))
    assert len(OutcomeArea) == 12
    assert {c.value for c in Complexity} == set(get_args(common.Complexity))
    assert {s.value for s in AssessmentStage} == set(get_args(common.AssessmentStage))
    assert {m.value for m in ContactMethod} == set(get_args(common.ContactMethod))
    assert {o.value for o in ContactOutcome} == set(get_args(common.ContactOutcome))
    assert {s.value for s in ShareScope} == set(get_args(common.ShareScope))


def test_a_contact_is_recorded_after_it_happened_and_failed_attempts_count() -> None:
    attempt = attempt_contact(
        method=ContactMethod.PHONE,
        outcome=ContactOutcome.NO_ANSWER,
        occurred_at=NOW - timedelta(hours=2),
        now=NOW,
    )
    assert (attempt.successful, attempt.recorded_at) == (False, NOW)
    with pytest.raises(ContactInFutureError):
        attempt_contact(
            method=ContactMethod.TEXT,
            outcome=ContactOutcome.SUCCESSFUL,
            occurred_at=NOW + timedelta(minutes=1),
            now=NOW,
        )


def test_distance_travelled_on_a_hand_worked_case() -> None:
    """Baseline housing 3/2, money 5/4; review housing 6/5; exit housing 8/7, money 4/6.

    Housing: change 8-3 = 5 (self), 7-2 = 5 (staff). Money: latest is the exit, 4-5 = -1,
    6-4 = 2. Overall baseline (3+5)/2 = 4, (2+4)/2 = 3; latest (8+4)/2 = 6, (7+6)/2 = 6.5;
    change 2 and 3.5; exit means the same as latest here.
    """
    done: list[OutcomeAssessment] = []
    _record(
        done,
        BASELINE,
        _score(HOUSING, 3, 2, Complexity.HIGH),
        _score(MONEY, 5, 4, Complexity.LOW),
        day=1,
    )
    _record(done, REVIEW, _score(HOUSING, 6, 5), day=10)
    _record(done, EXIT, _score(HOUSING, 8, 7), _score(MONEY, 4, 6), day=20)
    travelled = distance_travelled(done)
    housing, money = travelled.areas
    assert (housing.area, housing.complexity) == (HOUSING, Complexity.HIGH)
    assert (housing.baseline, housing.latest, housing.change) == (
        Scores(3, 2),
        Scores(8, 7),
        Scores(5, 5),
    )
    assert (money.latest, money.exit, money.change) == (Scores(4, 6), Scores(4, 6), Scores(-1, 2))
    overall = travelled.overall
    assert overall is not None
    assert (overall.baseline, overall.latest, overall.change) == (
        Scores(4, 3),
        Scores(6, 6.5),
        Scores(2, 3.5),
    )
    assert overall.exit == Scores(6, 6.5)


def test_latest_is_the_last_assessment_to_score_the_area_and_means_round_to_two_places() -> None:
    """Three areas at baseline 1/1, 2/2, 2/3; a review scores only health 4/4.
    Latest: 4, 2, 2 -> mean 8/3 = 2.67 self, (4+2+3)/3 = 3 staff; baseline 5/3 = 1.67, 2."""
    done: list[OutcomeAssessment] = []
    _record(
        done,
        BASELINE,
        _score(HEALTH, 1, 1, Complexity.MEDIUM),
        _score(HOUSING, 2, 2, Complexity.MEDIUM),
        _score(MONEY, 2, 3, Complexity.MEDIUM),
        day=1,
    )
    _record(done, REVIEW, _score(HEALTH, 4, 4), day=5)
    travelled = distance_travelled(done)
    assert [a.area for a in travelled.areas] == [
        HEALTH,
        HOUSING,
        MONEY,
    ]  # the specification's order
    assert [a.change for a in travelled.areas] == [Scores(3, 3), Scores(0, 0), Scores(0, 0)]
    assert travelled.overall is not None
    assert travelled.overall.baseline == Scores(1.67, 2)
    assert travelled.overall.latest == Scores(2.67, 3)
    assert travelled.overall.change == Scores(1, 1)
    assert travelled.overall.exit is None


def test_nothing_to_travel_before_a_baseline() -> None:
    travelled = distance_travelled([])
    assert (travelled.areas, travelled.overall) == ([], None)


def test_one_baseline_and_a_correction_replaces_it() -> None:
    done: list[OutcomeAssessment] = []
    first = _record(done, BASELINE, _score(HOUSING, 3, 3, Complexity.LOW), day=1)
    with pytest.raises(
        AssessmentConflictError, match=f"baseline assessment already exists \\({first.id}"
    ):
        _record(done, BASELINE, _score(HOUSING, 4, 4, Complexity.LOW), day=2)
    _record(done, BASELINE, _score(HOUSING, 5, 4, Complexity.LOW), day=1, corrects=first.id)
    travelled = distance_travelled(done)
    assert travelled.areas[0].baseline == Scores(5, 4)
    with pytest.raises(AssessmentConflictError, match="not a current assessment"):
        _record(done, BASELINE, _score(HOUSING, 6, 6, Complexity.LOW), day=1, corrects=first.id)
    with pytest.raises(InvalidAssessmentError, match="keeps the stage"):
        _record(done, REVIEW, _score(HOUSING, 6, 6), day=3, corrects=done[-1].id)


def test_reviews_and_exit_need_a_baseline_and_nothing_but_corrections_follow_the_exit() -> None:
    done: list[OutcomeAssessment] = []
    for stage in (REVIEW, EXIT):
        with pytest.raises(AssessmentConflictError, match="no baseline"):
            _record(done, stage, _score(HOUSING, 3, 3), day=1)
    _record(done, BASELINE, _score(HOUSING, 3, 3, Complexity.LOW), day=1)
    with pytest.raises(
        InvalidAssessmentError, match="not scored at baseline: finance-and-benefits"
    ):
        _record(done, REVIEW, _score(MONEY, 3, 3), day=2)
    ended = _record(done, EXIT, _score(HOUSING, 7, 7), day=3)
    for stage in (REVIEW, EXIT):
        with pytest.raises(AssessmentConflictError, match="exit assessment already exists"):
            _record(done, stage, _score(HOUSING, 8, 8), day=4)
    _record(done, EXIT, _score(HOUSING, 9, 8), day=3, corrects=ended.id)
    assert distance_travelled(done).areas[0].exit == Scores(9, 8)


@pytest.mark.parametrize(
    ("scores", "reason"),
    [
        ((), "at least one"),
        (
            (_score(HOUSING, 3, 3, Complexity.LOW), _score(HOUSING, 4, 4, Complexity.LOW)),
            "more than once",
        ),
        ((_score(HOUSING, 0, 3, Complexity.LOW),), "whole numbers 1 to 10"),
        ((_score(HOUSING, 3, 11, Complexity.LOW),), "whole numbers 1 to 10"),
        ((AreaScore(HOUSING, Complexity.LOW, 3.5, 3),), "whole numbers 1 to 10"),  # type: ignore[arg-type]
        ((AreaScore(HOUSING, Complexity.LOW, True, 3),), "whole numbers 1 to 10"),
        ((_score(HOUSING, 3, 3),), "has a complexity"),
    ],
)
def test_a_baseline_with_a_bad_area_is_refused_whole(
    scores: tuple[AreaScore, ...], reason: str
) -> None:
    with pytest.raises(InvalidAssessmentError, match=reason):
        assess([], stage=BASELINE, areas=scores, occurred_at=NOW, now=NOW)


def test_an_assessment_is_not_dated_in_the_future() -> None:
    with pytest.raises(InvalidAssessmentError, match="future"):
        assess(
            [],
            stage=BASELINE,
            areas=[_score(HOUSING, 3, 3, Complexity.LOW)],
            occurred_at=NOW + timedelta(seconds=1),
            now=NOW,
        )


def test_may_share_only_what_a_current_consent_covers() -> None:
    given = NOW - timedelta(days=10)
    housing = give_consent(
        partner="Bolton  Housing Advice",
        scopes=[ShareScope.NEEDS, ShareScope.CONTACT_DETAILS],
        given_at=given,
        recorded_by="worker",
        now=NOW,
    )
    everything = give_consent(
        partner="Citizens Advice", scopes=[ShareScope.ALL], given_at=given, recorded_by="w", now=NOW
    )
    consents = [housing, everything]
    allowed = may_share(consents, "bolton housing advice", ShareScope.NEEDS, NOW)
    assert (allowed.allowed, allowed.consent_id) == (True, housing.id)
    assert may_share(consents, "Citizens Advice", ShareScope.PROGRESS, NOW).allowed
    refusals = {
        "no consent to share progress with this partner": (
            "Bolton Housing Advice",
            ShareScope.PROGRESS,
            NOW,
        ),
        "no consent to share with this partner has been recorded": (
            "Job Centre",
            ShareScope.NEEDS,
            NOW,
        ),
        "consent to share with this partner was given later": (
            "Citizens Advice",
            ShareScope.NEEDS,
            given - timedelta(seconds=1),
        ),
    }
    for reason, (partner, scope, at) in refusals.items():
        decision = may_share(consents, partner, scope, at)
        assert (decision.allowed, decision.reason) == (False, reason)
    withdrawn = withdraw(housing, withdrawn_at=NOW - timedelta(days=1), now=NOW)
    after = may_share([withdrawn, everything], "Bolton Housing Advice", ShareScope.NEEDS, NOW)
    assert (after.allowed, after.reason) == (
        False,
        "consent to share with this partner has been withdrawn",
    )
    before = NOW - timedelta(days=2)
    assert may_share([withdrawn], "Bolton Housing Advice", ShareScope.NEEDS, before).allowed


def test_a_withdrawal_happens_once_and_after_the_consent() -> None:
    consent = give_consent(
        partner="P",
        scopes=[ShareScope.ALL],
        given_at=NOW - timedelta(days=1),
        recorded_by="w",
        now=NOW,
    )
    with pytest.raises(ConsentError, match="before the consent"):
        withdraw(consent, withdrawn_at=NOW - timedelta(days=2), now=NOW)
    with pytest.raises(ConsentError, match="future"):
        withdraw(consent, withdrawn_at=NOW + timedelta(days=1), now=NOW)
    withdrawn = withdraw(consent, withdrawn_at=NOW, now=NOW)
    with pytest.raises(ConsentAlreadyWithdrawnError, match="already withdrawn"):
        withdraw(withdrawn, withdrawn_at=NOW, now=NOW)
    with pytest.raises(ConsentError, match="partner"):
        give_consent(partner="  ", scopes=[ShareScope.ALL], given_at=NOW, recorded_by="w", now=NOW)
    with pytest.raises(ConsentError, match="future"):
        give_consent(
            partner="P",
            scopes=[ShareScope.ALL],
            given_at=NOW + timedelta(1),
            recorded_by="w",
            now=NOW,
        )


def test_an_onward_referral_needs_consent_to_contact_details_and_needs() -> None:
    def refer(consents: list[Consent]) -> uuid.UUID:
        made = refer_onward(
            consents,
            agency="Job  Centre",
            need=OutcomeArea.EDUCATION_SKILLS_AND_EMPLOYMENT,
            referred_at=NOW,
            outcome=ReferralOutcome.PENDING,
            now=NOW,
        )
        assert made.agency == "Job Centre"
        return made.consent_id

    needs_only = give_consent(
        partner="job centre", scopes=[ShareScope.NEEDS], given_at=NOW, recorded_by="w", now=NOW
    )
    with pytest.raises(SharingRefusedError, match="no consent to share contact-details"):
        refer([needs_only])
    with pytest.raises(SharingRefusedError, match="has been recorded"):
        refer([])
    both = give_consent(
        partner="Job Centre", scopes=[ShareScope.ALL], given_at=NOW, recorded_by="w", now=NOW
    )
    assert refer([needs_only, both]) == both.id
