"""The person's side of the exit survey: a public page, opened from a single-use link.

No login and no cookies: the link's token is the credential. A submission must come from the form
this service served for that link (its nonce) and, when the browser says where it came from, from
this site (Origin, Sec-Fetch-Site), so another site cannot post answers through a visitor's
browser. Every answer is an HTML page for a person, never JSON: 404 for a link that never existed,
410 for one used or expired, 400 for answers to correct. Rate-limited per address.

Not a `case_router`, so no `Idempotency-Key`: a browser form cannot send it, and the link is
already single-use (a resubmitted form, a double click, a retry after a lost answer finds the link
used: a 410 page, the answers stored once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Path, Request, Response
from fastapi.responses import HTMLResponse

from gmirs_case.domain.exit_survey import FormError
from gmirs_case.entrypoints.deps import UoW
from gmirs_case.entrypoints.exit_survey_html import form_page, message_page, stylesheet
from gmirs_case.handlers.exit_survey import (
    LinkClosedError,
    LinkUnknownError,
    NonceMismatchError,
    answer_exit_survey,
    open_offer,
)
from gmirs_runtime import audit
from gmirs_runtime.limits import address_limited_router

router = address_limited_router(prefix="/exit-survey", tags=["exit survey (public)"])
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 20
Token = Annotated[str, Path(description="The link's single-use token.")]
PERSON = "person-on-probation"


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _html("No survey has this link: a page saying so."),
    410: _html("The link was used, expired or withdrawn: a page saying so."),
}
_FORM_FIELDS = ("nonce", "helpfulness", "helped_most", "could_be_better", "would_recommend")
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {
                        **{name: {"type": "string", "maxLength": 100} for name in _FORM_FIELDS},
                        "comments": {"type": "string", "maxLength": 1200},
                    },
                }
            }
        },
    }
}


def not_found() -> HTMLResponse:
    return message_page(
        404,
        "Page not found",
        "This survey link is not recognised. Check that you copied the whole link.",
        "If it still does not work, contact your support worker.",
    )


def gone(expired: bool = True) -> HTMLResponse:
    if expired:
        return message_page(
            410,
            "This survey link has expired",
            "Survey links only work for a limited time.",
            "Contact your support worker if you would still like to give your views.",
        )
    return message_page(
        410, "You have already answered this survey", "Thank you. Your answers were sent."
    )


def refused() -> HTMLResponse:
    return message_page(
        403,
        "Your answers could not be sent",
        "Open the survey link you were sent again and fill in the form there.",
    )


@router.get(
    "/static/survey.css",
    response_class=Response,
    responses={200: {"content": {"text/css": {"schema": {"type": "string"}}}}},
)
async def exit_survey_stylesheet() -> Response:
    """The survey pages' only stylesheet (served here, so the pages need no other site)."""
    return stylesheet()


@router.get("/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def exit_survey_form(token: Token, uow: UoW) -> HTMLResponse:
    """The survey form for an open link."""
    try:
        offer = await open_offer(token, uow=uow, now=datetime.now(UTC))
    except LinkUnknownError:
        return not_found()
    except LinkClosedError as closed:
        return gone(expired=not closed.used)
    return form_page(offer.form_nonce)


@router.post(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        **PAGE_RESPONSES,
        400: _html("Some answers need correcting: the form again, with an error summary."),
        403: _html("Not a form this service served for the link, or posted from another site."),
    },
    openapi_extra=FORM_BODY,
)
async def submit_exit_survey(token: Token, request: Request, uow: UoW) -> HTMLResponse:
    """Store the answers once and thank the person; the link then stops working."""
    if not _from_this_site(request):
        return refused()
    form = _read_form(await request.body(), request.headers.get("content-type", ""))
    try:
        offer, answers = await answer_exit_survey(token, form or {}, uow=uow, now=datetime.now(UTC))
    except LinkUnknownError:
        return not_found()
    except LinkClosedError as closed:
        return gone(expired=not closed.used)
    except NonceMismatchError:
        return refused()
    if isinstance(answers, list):
        return form_page(offer.form_nonce, errors=answers, answers=_shown(form or {}, answers))
    await audit.record(
        uow.session,
        actor=PERSON,
        action="exit-survey.completed",
        resource_type="case",
        resource_id=str(offer.case_id),
    )
    await uow.commit()
    return message_page(
        200, "Thank you", "Your answers have been sent.", "You can now close this page."
    )


def _from_this_site(request: Request) -> bool:
    """False when the browser says the form was posted from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser, or an old one: the nonce still has to match
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def _read_form(body: bytes, content_type: str) -> dict[str, str] | None:
    """The form's fields, or None if it is not one plain form (wrong type, bad text, repeats)."""
    if content_type.split(";", maxsplit=1)[0].strip().lower() != FORM_TYPE:
        return None
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None


def _shown(form: dict[str, str], errors: list[FormError]) -> dict[str, str]:
    """The answers to show again: all but a comment that was refused."""
    wrong = {e.field for e in errors}
    return {k: v for k, v in form.items() if k != "nonce" and k not in wrong}
