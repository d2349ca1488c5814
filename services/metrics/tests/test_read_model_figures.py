"""The figures the service runs on by default: KPIs and Appendix A from the same read models,
judged at the month's data cut once it has passed, so the pack is the same however late it is
made (issue 12: "the same events give byte-identical files")."""

from __future__ import annotations

import json
from datetime import date, datetime

from services.metrics.tests.kpi_harness import Metrics, metrics

from gmirs_metrics.adapters.kpi_calendar import data_cut
from gmirs_metrics.domain.periods import UK

__all__ = ["metrics"]
MONTH = date(2028, 3, 1)


def test_the_data_cut_is_the_16th_working_day_of_the_next_month() -> None:
    # April 2028 starts on a Saturday: 3-7 April are working days 1-5, 10-13 are 6-9, Good
    # Friday (14th) and Easter Monday (17th) are not, 18-21 are 10-13, 24-26 are 14-16.
    assert data_cut(MONTH) == datetime(2028, 4, 26, tzinfo=UK)
    # January 2027: New Year's Day is a Friday; the first working day is Monday the 4th.
    assert data_cut(date(2026, 12, 1)) == datetime(2027, 1, 25, tzinfo=UK)


async def test_the_default_source_holds_kpis_and_indicators_judged_at_the_cut(
    metrics: Metrics,
) -> None:
    f = metrics.facts
    for day in range(1, 7):
        await f.referral("oldham", f"2028-03-{day * 5:02d} 09:00")
    await f.case("oldham", "2028-03-01 09:00", initial_assessment_attended_at="2028-03-06 10:00")

    async def pack(fmt: str) -> bytes:
        async with metrics.service.as_client("commissioner", ["commissioner"]) as http:
            answer = await http.get(f"/packs/2028-03.{fmt}")
        assert answer.status_code == 200, answer.text
        return answer.content

    metrics.clock.set("2028-04-03 09:00")  # before the cut: provisional, judged now
    assert json.loads(await pack("json"))["as_of"] == metrics.clock.now.isoformat()

    metrics.clock.set("2028-06-01 09:00")
    first = {fmt: await pack(fmt) for fmt in ("json", "xlsx")}
    figures = json.loads(first["json"])
    assert figures["as_of"] == data_cut(MONTH).isoformat()
    kpis = {(k["code"], k["area"]): k for k in figures["kpis"]}
    assert kpis[("DS1", "oldham")]["numerator"] == 6
    assert (kpis[("DS2", "oldham")]["numerator"], kpis[("DS2", "oldham")]["denominator"]) == (1, 1)
    a1 = next(b for b in figures["breakdowns"] if b["indicator"] == "A1")
    assert a1["column_totals"][a1["column_labels"].index("oldham")] == 6

    metrics.clock.set("2029-01-15 16:00")  # much later, the same events: the same bytes
    assert {fmt: await pack(fmt) for fmt in ("json", "xlsx")} == first
