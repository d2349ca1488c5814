"""How far a referral's desired outcomes were achieved when its sessions ended (DS5).

R&M's end of service report rates each desired outcome achieved, partially achieved or not
achieved, and scores 1 per achieved and 0.5 per partially achieved outcome. The case keeps the
counts (the outcomes' words stay in R&M): the hub may record them when it completes the
sessions, and R&M's report, the official one, replaces what the hub said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gmirs_case.domain.model import CaseError

MAX_OUTCOMES = 50


class InvalidAchievementError(CaseError):
    """Counts that cannot describe a referral's outcomes."""


@dataclass(frozen=True, slots=True)
class OutcomeAchievement:
    achieved: int
    partially_achieved: int
    not_achieved: int

    def __post_init__(self) -> None:
        counts = (self.achieved, self.partially_achieved, self.not_achieved)
        if min(counts) < 0 or sum(counts) > MAX_OUTCOMES:
            raise InvalidAchievementError(
                f"outcome counts must be 0 or more and {MAX_OUTCOMES} in all at most"
            )
        if sum(counts) == 0:
            raise InvalidAchievementError("a referral has at least one desired outcome")

    @property
    def achievement_score(self) -> float:
        """R&M's score for the end of service report."""
        return self.achieved + 0.5 * self.partially_achieved

    @classmethod
    def of_levels(cls, levels: Sequence[str]) -> OutcomeAchievement | None:
        """From R&M's per-outcome levels (our vocabulary); None for a report with no outcomes."""
        if not levels:
            return None
        return cls(
            achieved=sum(level == "achieved" for level in levels),
            partially_achieved=sum(level == "partially-achieved" for level in levels),
            not_achieved=sum(level == "not-achieved" for level in levels),
        )
