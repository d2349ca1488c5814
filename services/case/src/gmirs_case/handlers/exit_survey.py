"""Offering, declining and answering the exit survey: each one transaction, with its event.

Creating a link IS the offer: the first link of a case applies the lifecycle's `OfferExitSurvey`
(decided by its transition table: only from `sessions-completed`, else InvalidTransition) and
publishes `exit-survey-offered` once. A further link for a case already `exit-survey-offered`
(the person lost the first) is only another link: no move, no second event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.commands import OfferExitSurvey
from gmirs_case.domain.exit_survey import (
    FormError,
    LinkState,
    SurveyAnswers,
    SurveyOffer,
    read_answers,
    token_hash,
)
from gmirs_case.domain.lifecycle import CaseState
from gmirs_case.domain.model import Case
from gmirs_case.handlers.lifecycle import apply_command
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_contracts.case_exit_survey import ExitSurveyCompleted, ExitSurveyDeclined
from gmirs_contracts.registry import contract_for

AGGREGATE = "case"
COMPLETED = contract_for(ExitSurveyCompleted)
DECLINED = contract_for(ExitSurveyDeclined)


class LinkUnknownError(LookupError):
    """No offer has this token (never made, or mistyped)."""


class LinkClosedError(Exception):
    """The link was used, expired or withdrawn (the person declined)."""

    def __init__(self, used: bool) -> None:
        super().__init__("used" if used else "expired")
        self.used = used


class NonceMismatchError(Exception):
    """The form's nonce is not this link's: not a form this service served for it."""


@dataclass(frozen=True, slots=True)
class Offered:
    offer: SurveyOffer
    token: str


async def offer_exit_survey(
    case_id: uuid.UUID,
    *,
    uow: CaseUnitOfWork,
    hub_id: str | None,
    now: datetime,
    valid_for: timedelta,
) -> Offered:
    """A new single-use link; the case's first one moves its lifecycle (InvalidTransition if the
    case is not at `sessions-completed`, and then nothing is written)."""
    case = await _case(uow, case_id, hub_id)
    if (await uow.lifecycles.get(case.id)).state is not CaseState.EXIT_SURVEY_OFFERED:
        await apply_command(uow, case, OfferExitSurvey(occurred_at=now), now=now)
    offer, token = SurveyOffer.create(case.id, now, valid_for)
    await uow.exit_surveys.add_offer(offer)
    return Offered(offer, token)


async def decline_exit_survey(
    case_id: uuid.UUID, *, uow: CaseUnitOfWork, hub_id: str | None, now: datetime
) -> None:
    case = await _case(uow, case_id, hub_id)
    await uow.exit_surveys.decline(case.id, now)
    event = ExitSurveyDeclined(
        case_id=case.id, referral_id=case.referral_id, hub_id=case.hub_id, declined_at=now
    )
    uow.publish(DECLINED, event, aggregate_type=AGGREGATE, aggregate_id=case.id)


async def open_offer(token: str, *, uow: CaseUnitOfWork, now: datetime) -> SurveyOffer:
    """The offer behind a link that can still be answered."""
    offer = await uow.exit_surveys.offer_by_token_hash(token_hash(token))
    return _usable(offer, now)


async def answer_exit_survey(
    token: str, form: dict[str, str], *, uow: CaseUnitOfWork, now: datetime
) -> tuple[SurveyOffer, SurveyAnswers | list[FormError]]:
    """Store the answers once; invalid answers come back as errors and nothing is stored."""
    locked = await uow.exit_surveys.offer_by_token_hash(token_hash(token), for_update=True)
    offer = _usable(locked, now)
    if not offer.nonce_matches(form.get("nonce", "")):
        raise NonceMismatchError
    answers = read_answers(form)
    if isinstance(answers, list):
        return offer, answers
    case = await _case(uow, offer.case_id, None)
    await uow.exit_surveys.complete(offer, answers, now)
    uow.publish(
        COMPLETED,
        _completed(case, offer, answers, now),
        aggregate_type=AGGREGATE,
        aggregate_id=case.id,
    )
    return offer, answers


def _usable(offer: SurveyOffer | None, now: datetime) -> SurveyOffer:
    if offer is None:
        raise LinkUnknownError
    state = offer.state(now)
    if state is not LinkState.OPEN:
        raise LinkClosedError(used=state is LinkState.USED)
    return offer


def _completed(
    case: Case, offer: SurveyOffer, answers: SurveyAnswers, now: datetime
) -> ExitSurveyCompleted:
    return ExitSurveyCompleted.model_validate(
        {
            "case_id": case.id,
            "referral_id": case.referral_id,
            "hub_id": case.hub_id,
            "offered_at": offer.offered_at,
            "completed_at": now,
            "helpfulness": answers.helpfulness,
            "helped_most": answers.helped_most,
            "could_be_better": answers.could_be_better,
            "would_recommend": answers.would_recommend,
            "left_comments": answers.left_comments,
        }
    )


async def _case(uow: CaseUnitOfWork, case_id: uuid.UUID, hub_id: str | None) -> Case:
    case = await uow.cases.get(case_id, hub_id=hub_id, for_update=True)
    if case is None:
        raise CaseNotFoundError(str(case_id))
    return case
