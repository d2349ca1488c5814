"""Payloads on `case.case-events.v1` about a case's exit survey (KP5 and Appendix A).

The person on probation answers on a page case serves from a single-use link; the hub records it
when the person declines. Metrics needs when and how the survey went, so the completed event
carries the numeric and categorical answers only: the free-text comments stay in case, with the
rest of the record. No names, CRNs, links or tokens.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import HubId

Helpfulness = Annotated[
    int, Field(ge=1, le=5, description="How helpful the support was: 1 not at all, 5 very.")
]
HelpedMost = Literal[
    "someone-to-talk-to",
    "practical-help",
    "health-and-wellbeing",
    "other-services",
    "nothing-in-particular",
]
CouldBeBetter = Literal[
    "nothing",
    "more-sessions",
    "easier-to-get-to",
    "better-communication",
    "something-else",
]
WouldRecommend = Literal["yes", "no", "not-sure"]


class _AboutCase(ContractModel):
    case_id: UUID
    referral_id: UUID
    hub_id: HubId


class ExitSurveyCompleted(_AboutCase):
    """`gmirs.case.exit-survey-completed.v1`: the person answered the survey (once per offer)."""

    offered_at: AwareDatetime = Field(description="When the hub offered this survey.")
    completed_at: AwareDatetime
    helpfulness: Helpfulness
    helped_most: HelpedMost
    could_be_better: CouldBeBetter
    would_recommend: WouldRecommend
    left_comments: bool = Field(description="Whether free text was left (the text stays in case).")


class ExitSurveyDeclined(_AboutCase):
    """`gmirs.case.exit-survey-declined.v1`: the person said no; open links stop working."""

    declined_at: AwareDatetime
