"""The exit survey: a single-use link the hub sends, and the answers the person gives once.

The link's token is the only credential, so it is long (256 random bits), kept only as a hash
(a copy of the database opens no survey), and dies when used, when it expires or when the person
declines. The form's answers are checked here with messages written for the person, in the
GOV.UK style, naming the question and never echoing what was typed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

TOKEN_BYTES = 32
MAX_COMMENTS = 1200
_CONTROLS = frozenset(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_CONTROLS |= frozenset(chr(c) for c in [*range(0x7F, 0xA0), *range(0x202A, 0x202F)])
_CONTROLS |= frozenset(chr(c) for c in range(0x2066, 0x206A))

HELPFULNESS = ("1", "2", "3", "4", "5")
HELPED_MOST = (
    "someone-to-talk-to",
    "practical-help",
    "health-and-wellbeing",
    "other-services",
    "nothing-in-particular",
)
COULD_BE_BETTER = (
    "nothing",
    "more-sessions",
    "easier-to-get-to",
    "better-communication",
    "something-else",
)
WOULD_RECOMMEND = ("yes", "no", "not-sure")


class LinkState(StrEnum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"


def new_token() -> str:
    """A fresh link token, URL-safe (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored and looked up: SHA-256 suffices for 256 random bits (nothing to guess)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True)
class SurveyOffer:
    id: uuid.UUID
    case_id: uuid.UUID
    token_hash: str
    form_nonce: str
    offered_at: datetime
    expires_at: datetime
    completed_at: datetime | None = None

    @classmethod
    def create(
        cls, case_id: uuid.UUID, now: datetime, valid_for: timedelta
    ) -> tuple[SurveyOffer, str]:
        """A new offer and its token (returned once, to go in the link; never stored)."""
        token = new_token()
        offer = cls(
            id=uuid.uuid4(),
            case_id=case_id,
            token_hash=token_hash(token),
            form_nonce=secrets.token_urlsafe(16),
            offered_at=now,
            expires_at=now + valid_for,
        )
        return offer, token

    def state(self, now: datetime) -> LinkState:
        if self.completed_at is not None:
            return LinkState.USED
        if now >= self.expires_at:
            return LinkState.EXPIRED
        return LinkState.OPEN

    def nonce_matches(self, nonce: str) -> bool:
        return secrets.compare_digest(self.form_nonce.encode(), nonce.encode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class SurveyAnswers:
    helpfulness: int
    helped_most: str
    could_be_better: str
    would_recommend: str
    comments: str

    @property
    def left_comments(self) -> bool:
        return bool(self.comments)


@dataclass(frozen=True, slots=True)
class FormError:
    field: str
    message: str


_CHOICE_MESSAGES = {
    "helpfulness": (HELPFULNESS, "Select how helpful the support was"),
    "helped_most": (HELPED_MOST, "Select what helped you most"),
    "could_be_better": (COULD_BE_BETTER, "Select what could have been better"),
    "would_recommend": (WOULD_RECOMMEND, "Select whether you would recommend the service"),
}


def read_answers(form: Mapping[str, str]) -> SurveyAnswers | list[FormError]:
    """The answers if every question is answered acceptably, else one error per question."""
    errors = [
        FormError(name, message)
        for name, (choices, message) in _CHOICE_MESSAGES.items()
        if form.get(name) not in choices
    ]
    comments = form.get("comments", "").replace("\r\n", "\n").strip()
    if len(comments) > MAX_COMMENTS:
        errors.append(FormError("comments", f"Comments must be {MAX_COMMENTS} characters or less"))
    elif any(c in _CONTROLS for c in comments):
        errors.append(
            FormError("comments", "Comments must only include letters, numbers and punctuation")
        )
    if errors:
        return errors
    return SurveyAnswers(
        helpfulness=int(form["helpfulness"]),
        helped_most=form["helped_most"],
        could_be_better=form["could_be_better"],
        would_recommend=form["would_recommend"],
        comments=comments,
    )
