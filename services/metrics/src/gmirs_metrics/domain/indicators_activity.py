"""Appendix A indicators 12 to 16: the provider's own activity figures, entered by hand.

Nothing in the events says how many volunteers helped or what was spent, so the lead provider
(for any hub, or for itself as `lead-provider`) and each hub (for its own borough) enter one
value per month and measure. The measures are a fixed list, each with the bounds a real figure
keeps inside: a count is a whole number, money has pence, hours have two decimal places.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gmirs_contracts.hubs import HUB_IDS

LEAD_PROVIDER_AREA = "lead-provider"
"""The `hub_id` of a figure for the lead provider itself rather than a borough hub."""
ACTIVITY_AREAS: tuple[str, ...] = (*HUB_IDS, LEAD_PROVIDER_AREA)
EARLIEST_MONTH = date(2024, 1, 1)
"""No provider activity is entered for a month before the service could have started."""


@dataclass(frozen=True)
class ActivityMeasure:
    name: str
    indicator: str
    label: str
    unit: str
    maximum: Decimal
    whole: bool
    """True for counts: the value must be a whole number."""


_COUNT_MAX = Decimal(100_000)
_HOURS_MAX = Decimal(1_000_000)
_MONEY_MAX = Decimal(100_000_000)
MEASURES: dict[str, ActivityMeasure] = {
    m.name: m
    for m in (
        ActivityMeasure("volunteers", "A12", "Volunteers supporting delivery", "people", _COUNT_MAX, True),
        ActivityMeasure("promotional-events", "A13", "Promotional and awareness events", "events", _COUNT_MAX, True),
        ActivityMeasure("promotional-event-attendees", "A13", "People reached by those events", "people", _COUNT_MAX, True),
        ActivityMeasure("staff-trained", "A14", "Lead professionals and staff trained", "people", _COUNT_MAX, True),
        ActivityMeasure("development-courses", "A15", "Workforce development courses attended", "courses", _COUNT_MAX, True),
        ActivityMeasure("development-hours", "A15", "Workforce development hours", "hours", _HOURS_MAX, False),
        ActivityMeasure("spend", "A16", "Spend in the month", "pounds", _MONEY_MAX, False),
        ActivityMeasure("budget", "A16", "Budget for the month", "pounds", _MONEY_MAX, False),
    )
}  # fmt: skip


def value_problem(measure: ActivityMeasure, value: Decimal) -> str | None:
    """Why `value` cannot be a figure for `measure`, or None when it can."""
    if not value.is_finite():
        return "value must be a finite number"
    if value < 0 or value > measure.maximum:
        return f"value must be between 0 and {measure.maximum} {measure.unit}"
    if measure.whole and value != value.to_integral_value():
        return f"{measure.name} is a count: value must be a whole number"
    if value != value.quantize(Decimal("0.01")):
        return "value may have at most two decimal places"
    return None


def spend_percent(spend: Decimal | None, budget: Decimal | None) -> float | None:
    """Spend as a percentage of budget (Appendix A indicator 16), when both are known."""
    if spend is None or budget is None or budget == 0:
        return None
    return round(float(100 * spend / budget), 1)
