"""Appendix A's quantitative indicators 1 to 17, by borough: what each row counts, in words.

Appendix A of the specification lists 17 indicators "broken down by borough where appropriate".
Indicators 1 to 11 and 17 are about people and their referrals: they are counted from the read
models the events build (`adapters/indicator_queries*.py`). Indicators 12 to 16 are the
provider's own activity (volunteers, events, training, workforce development, spend): nothing in
the events says them, so the provider enters them (`domain/indicators_activity.py`).

Where the events do not carry what an indicator asks for, the breakdown says so
(`Breakdown.not_collected`) and has no rows: a figure is never invented.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.domain.figures import Breakdown
from gmirs_metrics.domain.periods import UK, UNROUTED

REFERRAL_COLUMNS: tuple[str, ...] = (*HUB_IDS, UNROUTED)
"""Columns of a breakdown of referrals: each borough hub, and referrals held unrouted."""
CASE_COLUMNS: tuple[str, ...] = HUB_IDS
"""Columns of a breakdown of cases: each borough hub (a case always has one)."""
NOT_RECORDED = "not recorded"

NOT_COLLECTED: Mapping[str, tuple[str, str]] = {
    "A2-age": (
        "Referrals by age",
        "Not held: the referral event carries a date of birth, but the read models keep no "
        "dates of birth (migration 0003); an age band at referral would need a projection change.",
    ),
    "A2-religion": (
        "Referrals by religion",
        "Not collected: neither Refer and Monitor nor the referral event records religion.",
    ),
    "A2-sexual-orientation": (
        "Referrals by sexual orientation",
        "Not collected: neither Refer and Monitor nor the referral event records it.",
    ),
    "A3": (
        "Referrals by crime type",
        "Not collected: the referral event carries no offence or crime type (only a free-text "
        "reason for referral, which the platform does not classify).",
    ),
    "A4-risk": (
        "Referrals by risk level",
        "Not collected: the referral event carries only a free-text risk summary and the R&M "
        "supplementary risk id, no risk level.",
    ),
}

ENDED_EARLY = ("disengaged", "declined")
"""Appendix A indicator 6: did not engage or declined the service."""
NOT_SUITABLE = ("inappropriate", "signposted-elsewhere")
"""Appendix A indicator 5: inappropriate for the service or signposted elsewhere."""
NOT_COMPLETED = ("disengaged", "declined", "inappropriate", "signposted-elsewhere", "withdrawn")
NOT_COMPLETED_ROWS = (*NOT_COMPLETED, "ended-in-rm")
"""Appendix A indicator 10: every closure reason but `completed`."""

POINTS = (
    "before first contact",
    "after first contact, before the initial assessment",
    "after the initial assessment, before an action plan",
    "after the action plan, before the intervention began",
    "during the intervention",
)
"""Appendix A indicator 6's "at what point": the furthest milestone the case reached."""

CONTACT_TIMING = (
    "contacted within the agreed time",
    "contacted after the agreed time",
    "not contacted, agreed time passed",
    "not contacted yet, still within the agreed time",
)
SUPPORT_ROWS = (
    "attended an appointment in the month",
    "began the intervention in the month",
)
LENGTH_BANDS = ("under 6 weeks", "6 to 12 weeks", "12 weeks to 6 months", "6 months or more")
SESSION_BANDS = ("no sessions attended", "1 to 5 sessions", "6 to 11 sessions", "12 or more")
MEAN_ROWS = ("people whose support ended", "mean days of support", "mean sessions attended")


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first moment of `month` and of the next, in Europe/London time."""
    start = datetime(month.year, month.month, 1, tzinfo=UK)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def tabulate(
    indicator: str,
    title: str,
    counts: Mapping[tuple[str, str], int],
    *,
    rows: Iterable[str] | None = None,
    columns: Iterable[str] = CASE_COLUMNS,
    small_groups: bool = False,
) -> Breakdown:
    """A breakdown of (row, column) counts; rows in the given order, or the ones seen, sorted
    (with `not recorded` last). A column or row with no count shows zeros."""
    column_labels = list(columns)
    row_labels = list(rows) if rows is not None else _seen_rows(counts)
    cells = [[counts.get((row, column), 0) for column in column_labels] for row in row_labels]
    return Breakdown(
        indicator=indicator,
        title=title,
        row_labels=row_labels,
        column_labels=column_labels,
        cells=cells,
        small_groups=small_groups,
    )


def _seen_rows(counts: Mapping[tuple[str, str], int]) -> list[str]:
    seen = sorted({row for row, _ in counts} - {NOT_RECORDED})
    return [*seen, NOT_RECORDED] if any(row == NOT_RECORDED for row, _ in counts) else seen


def not_collected(indicator: str) -> Breakdown:
    """The breakdown of an indicator the events do not carry: no rows, and the reason."""
    title, reason = NOT_COLLECTED[indicator]
    return Breakdown(
        indicator=indicator,
        title=title,
        row_labels=[],
        column_labels=list(REFERRAL_COLUMNS),
        cells=[],
        small_groups=True,
        not_collected=reason,
    )


def length_band(days: int) -> str:
    """Appendix A indicator 17's band for a length of support in days (6 weeks, 12 weeks and
    6 months are 42, 84 and 183 days)."""
    return LENGTH_BANDS[bisect_right((42, 84, 183), days)]


def session_band(sessions: int) -> str:
    """Appendix A indicator 17's band for the number of sessions attended."""
    return SESSION_BANDS[bisect_right((1, 6, 12), sessions)]


def contact_timing(*, contacted: date | None, deadline: date, today: date) -> str:
    """Appendix A indicator 8's row for one referral: its first contact's local date against the
    agreed deadline (the last working day allowed), as known on `today`."""
    if contacted is not None:
        return CONTACT_TIMING[0] if contacted <= deadline else CONTACT_TIMING[1]
    return CONTACT_TIMING[2] if today > deadline else CONTACT_TIMING[3]


def support_lengths(lengths: Iterable[tuple[str, int, int]]) -> list[Breakdown]:
    """Indicator 17 from (hub, days of support, sessions attended) per person whose support
    ended: two banded counts, and the means (not counts: no totals, not suppressed)."""
    by_length: Counter[tuple[str, str]] = Counter()
    by_sessions: Counter[tuple[str, str]] = Counter()
    people: Counter[str] = Counter()
    days: Counter[str] = Counter()
    sessions: Counter[str] = Counter()
    for hub, length, attended in lengths:
        by_length[length_band(length), hub] += 1
        by_sessions[session_band(attended), hub] += 1
        people[hub] += 1
        days[hub] += length
        sessions[hub] += attended
    means = {
        **{(MEAN_ROWS[0], hub): n for hub, n in people.items()},
        **{(MEAN_ROWS[1], hub): round(days[hub] / n) for hub, n in people.items()},
        **{(MEAN_ROWS[2], hub): round(sessions[hub] / n) for hub, n in people.items()},
    }
    mean = tabulate("A17-mean", "Average length of support, per person", means, rows=MEAN_ROWS)
    return [
        tabulate("A17-length", "Length of support (initial assessment to end)", by_length,
                 rows=LENGTH_BANDS, small_groups=True),
        tabulate("A17-sessions", "Sessions attended by people whose support ended",
                 by_sessions, rows=SESSION_BANDS, small_groups=True),
        replace(mean, counts=False),
    ]  # fmt: skip
