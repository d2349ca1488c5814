"""The hub's side of the exit survey: ask for a single-use link, or record that the person declined.

Asking for the case's first link is the lifecycle's exit-survey offer (one command, one event):
allowed once the sessions are completed, a 409 naming the state before that.

The link goes back to the hub once, in the response, for it to send to the person (text, email,
letter); it is never logged, audited or published, and only its hash is stored. So its answer is
`Cache-Control: no-store`, which also keeps it off the Idempotency-Key store: a retry with the key
makes no second link, and answers 409 `idempotency-answer-withheld`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.lifecycle import InvalidTransition
from gmirs_case.entrypoints.case_problems import audited, no_such_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.lifecycle import refused
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.handlers.exit_survey import decline_exit_survey, offer_exit_survey
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_case.settings import CaseSettings
from gmirs_runtime.auth import Principal
from gmirs_runtime.problems import problem_responses

router = case_router(prefix="/cases", tags=["exit survey"])
DEFAULT_VALID_DAYS = CaseSettings.model_fields["exit_survey_valid_days"].default


class ExitSurveyLink(BaseModel):
    """A single-use link for the person on probation; send it to them, do not store it."""

    offer_id: uuid.UUID
    link: str = Field(description="Path of the survey page on this service: /exit-survey/{token}.")
    expires_at: AwareDatetime


def _valid_for(request: Request) -> timedelta:
    settings = request.app.state.settings
    days = settings.exit_survey_valid_days if isinstance(settings, CaseSettings) else None
    return timedelta(days=days or DEFAULT_VALID_DAYS)


@router.post(
    "/{case_id}/exit-survey",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409),
)
async def offer_exit_survey_link(
    case_id: uuid.UUID, principal: CaseWorker, uow: UoW, request: Request, response: Response
) -> ExitSurveyLink:
    """Offer the exit survey: a new single-use link for the case's person.

    The first link moves the case to `exit-survey-offered` (only from `sessions-completed`: else
    409); later ones are further links, and earlier links stay usable until used.
    """
    try:
        offered = await offer_exit_survey(
            case_id,
            uow=uow,
            hub_id=hub_scope(principal),
            now=datetime.now(UTC),
            valid_for=_valid_for(request),
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except InvalidTransition as exc:
        raise refused(exc) from None
    await _commit_audited(uow, principal, "exit-survey.offered", case_id)
    response.headers["Cache-Control"] = "no-store"
    offer = offered.offer
    return ExitSurveyLink(
        offer_id=offer.id, link=f"/exit-survey/{offered.token}", expires_at=offer.expires_at
    )


@router.post(
    "/{case_id}/exit-survey/declined",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
async def record_exit_survey_declined(case_id: uuid.UUID, principal: CaseWorker, uow: UoW) -> None:
    """The person declined the survey: recorded, published, and the case's open links end now."""
    try:
        await decline_exit_survey(
            case_id, uow=uow, hub_id=hub_scope(principal), now=datetime.now(UTC)
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    await _commit_audited(uow, principal, "exit-survey.declined", case_id)


async def _commit_audited(
    uow: CaseUnitOfWork, principal: Principal, action: str, case_id: uuid.UUID
) -> None:
    """Audit who acted on which case (never the link) in the same transaction, and commit."""
    await audited(uow, principal, action, case_id)
    await uow.commit()
