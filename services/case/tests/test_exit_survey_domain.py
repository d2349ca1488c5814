"""The exit survey's rules without infrastructure: links' states and reading the answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_case.domain.exit_survey import (
    MAX_COMMENTS,
    LinkState,
    SurveyAnswers,
    SurveyOffer,
    read_answers,
    token_hash,
)

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
GOOD = {
    "helpfulness": "3",
    "helped_most": "other-services",
    "could_be_better": "nothing",
    "would_recommend": "not-sure",
}


def test_a_new_offer_keeps_only_the_hash_of_its_fresh_token() -> None:
    offer, token = SurveyOffer.create(uuid.uuid4(), NOW, timedelta(days=14))
    other, other_token = SurveyOffer.create(uuid.uuid4(), NOW, timedelta(days=14))
    assert token != other_token
    assert offer.token_hash == token_hash(token) != token
    assert token not in repr(offer)
    assert offer.form_nonce != other.form_nonce
    assert offer.expires_at == NOW + timedelta(days=14)


def test_a_link_is_open_until_it_expires_or_is_used() -> None:
    offer, _ = SurveyOffer.create(uuid.uuid4(), NOW, timedelta(days=1))
    assert offer.state(NOW + timedelta(hours=23)) is LinkState.OPEN
    assert offer.state(NOW + timedelta(days=1)) is LinkState.EXPIRED
    offer.completed_at = NOW
    assert offer.state(NOW) is LinkState.USED


def test_the_nonce_must_match_exactly() -> None:
    offer, _ = SurveyOffer.create(uuid.uuid4(), NOW, timedelta(days=1))
    assert offer.nonce_matches(offer.form_nonce)
    assert not offer.nonce_matches(offer.form_nonce[:-1])
    assert not offer.nonce_matches("")
    assert not offer.nonce_matches("\udc80")  # unpaired surrogate: refused, not an error


def test_good_answers_are_read_with_comments_trimmed() -> None:
    answers = read_answers({**GOOD, "comments": "  fine\r\nthanks  "})
    assert answers == SurveyAnswers(3, "other-services", "nothing", "not-sure", "fine\nthanks")
    assert answers.left_comments
    assert not read_answers(GOOD).left_comments  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"helpfulness": "0"}, "helpfulness"),
        ({"helpfulness": "5.0"}, "helpfulness"),
        ({"helped_most": "Practical help"}, "helped_most"),
        ({"could_be_better": ""}, "could_be_better"),
        ({"would_recommend": "yes\x00"}, "would_recommend"),
        ({"comments": "a" * (MAX_COMMENTS + 1)}, "comments"),
        ({"comments": "ok\u202eko"}, "comments"),
        ({"comments": "nul\x00"}, "comments"),
    ],
)
def test_each_bad_answer_is_named(changed: dict[str, str], field: str) -> None:
    errors = read_answers({**GOOD, **changed})
    assert isinstance(errors, list)
    assert [e.field for e in errors] == [field]
    assert all(v not in e.message for e in errors for v in changed.values() if v)


def test_every_unanswered_question_is_named_once() -> None:
    errors = read_answers({})
    assert isinstance(errors, list)
    assert [e.field for e in errors] == [
        "helpfulness",
        "helped_most",
        "could_be_better",
        "would_recommend",
    ]
