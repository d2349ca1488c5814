"""The dashboard page as HTML, from hand-made figures: what it says, escaped, in words."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

from services.metrics.tests.dash_figures import AS_OF, NOVEMBER, month_figures, six_months

from gmirs_metrics.domain.figures import ALL_HUBS, Breakdown, KpiFigure, MonthlyFigures
from gmirs_metrics.web.dashboard_page import referrals_by_hub, render


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def _page(current: MonthlyFigures) -> str:
    history = [month_figures(date(2026, m, 1), 10) for m in range(6, 11)]
    return render(current, [*history, current], NOVEMBER)


def test_tiles_say_each_status_in_words_as_well_as_colour() -> None:
    page = _page(month_figures(NOVEMBER, 15))
    for words, status in (
        ("Met target", "green"),
        ("Near target", "amber"),
        ("Below target", "red"),
        ("No data", "no-data"),
    ):
        assert f'<strong class="tag tag-{status}">{words}</strong>' in page
    assert "96 of 100 (3 through mitigation). Target 95%." in page
    assert page.count('<li class="tile">') == 5  # the lead provider's view: area `all` only


def test_figures_are_escaped_and_the_page_loads_nothing_from_elsewhere() -> None:
    hostile = KpiFigure('<script>alert("x")</script>', ALL_HUBS, 1, 2, 50.0)
    figures = month_figures(NOVEMBER, 15)
    page = _page(MonthlyFigures(NOVEMBER, AS_OF, [hostile], [], [], [], figures.activity))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    parser = _Text()
    parser.feed(page)
    assert "script" not in parser.tags
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_empty_month_says_so_rather_than_showing_nothing() -> None:
    page = _page(MonthlyFigures(NOVEMBER, AS_OF, [], [], [], [], []))
    assert "No KPI figures for this month yet." in page
    assert "No 24-hour reports were due this month." in page
    assert "No provider activity entered for this month yet." in page
    assert 'href="/packs/2026-11.xlsx"' in page


def test_trends_come_from_ds1_or_else_from_appendix_a_indicator_1() -> None:
    assert referrals_by_hub(month_figures(NOVEMBER, 15))["bury"] == 16
    a1 = Breakdown("A1", "t", ["direct", "pilot-import"], ["bolton", "unrouted"], [[2, 1], [3, 4]])
    only_a1 = MonthlyFigures(NOVEMBER, AS_OF, [], [], [], [a1], [])
    counts = referrals_by_hub(only_a1)
    assert counts["bolton"] == 5
    assert counts["bury"] == 0
    assert "unrouted" not in counts


async def test_six_months_of_trends_reach_the_page() -> None:
    source = six_months()
    months = [await source.figures_for(date(2026, m, 1)) for m in range(6, 12)]
    page = render(months[-1], months, NOVEMBER)
    assert "Referrals received in Bolton: Jun 10, Jul 11, Aug 12, Sep 13, Oct 14, Nov 15" in page
    assert "Referrals received per borough, June 2026 to November 2026" in page
    assert "Next month" not in page  # November is the latest complete month
