"""The exit survey's pages: server-rendered HTML with autoescaping, and the headers every page gets.

No script anywhere, styles from this service only (the policy forbids anything else), nothing
cached, no referrer sent to another site (the address holds the link's token), no framing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gmirs_case.domain.exit_survey import (
    COULD_BE_BETTER,
    HELPED_MOST,
    HELPFULNESS,
    MAX_COMMENTS,
    WOULD_RECOMMEND,
    FormError,
)

PAGES = Path(__file__).parent / "exit_survey_pages"
STYLESHEET = (PAGES / "survey.css").read_bytes()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # a posted form keeps its Origin; no other site sees the link
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
FORM_TITLE = "Tell us about your support"
_LABELS = {
    "1": "1 (not at all helpful)",
    "2": "2",
    "3": "3",
    "4": "4",
    "5": "5 (very helpful)",
    "someone-to-talk-to": "Having someone to talk to",
    "practical-help": "Practical help, such as housing, money or benefits",
    "health-and-wellbeing": "Help with my health and wellbeing",
    "other-services": "Being put in touch with other services",
    "nothing-in-particular": "Nothing in particular",
    "nothing": "Nothing, it was fine",
    "more-sessions": "More sessions or more time",
    "easier-to-get-to": "Sessions that were easier to get to",
    "better-communication": "Better communication with me",
    "something-else": "Something else",
    "yes": "Yes",
    "no": "No",
    "not-sure": "Not sure",
}
QUESTIONS = {
    name: [(value, _LABELS[value]) for value in values]
    for name, values in (
        ("helpfulness", HELPFULNESS),
        ("helped_most", HELPED_MOST),
        ("could_be_better", COULD_BE_BETTER),
        ("would_recommend", WOULD_RECOMMEND),
    )
}
_templates = Environment(
    loader=FileSystemLoader(PAGES), autoescape=select_autoescape(default=True), auto_reload=False
)


def render(template: str, status_code: int, **context: Any) -> HTMLResponse:
    html = _templates.get_template(template).render({"errors": {}, **context})
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def form_page(
    nonce: str,
    *,
    errors: list[FormError] | None = None,
    answers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The survey form; with errors, a 400 with an error summary and the answers kept."""
    return render(
        "form.html",
        400 if errors else 200,
        title=FORM_TITLE,
        nonce=nonce,
        questions=QUESTIONS,
        max_comments=MAX_COMMENTS,
        errors={e.field: e.message for e in errors or []},
        answers=dict(answers or {}),
    )


def message_page(status_code: int, title: str, *paragraphs: str) -> HTMLResponse:
    return render("message.html", status_code, title=title, paragraphs=paragraphs)


def stylesheet() -> Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return Response(STYLESHEET, media_type="text/css", headers=headers)
