"""Appendix A indicator 17's bands, at each edge (pure functions: no database needed)."""

from __future__ import annotations

from gmirs_metrics.domain.indicators import length_band, session_band


def test_support_is_banded_at_six_and_twelve_weeks_six_months_and_session_counts() -> None:
    assert [length_band(d) for d in (0, 41, 42, 83, 84, 182, 183)] == [
        "under 6 weeks",
        "under 6 weeks",
        "6 to 12 weeks",
        "6 to 12 weeks",
        "12 weeks to 6 months",
        "12 weeks to 6 months",
        "6 months or more",
    ]
    assert [session_band(n) for n in (0, 1, 5, 6, 11, 12)] == [
        "no sessions attended",
        "1 to 5 sessions",
        "1 to 5 sessions",
        "6 to 11 sessions",
        "6 to 11 sessions",
        "12 or more",
    ]
