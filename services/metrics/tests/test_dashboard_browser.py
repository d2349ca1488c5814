"""The dashboard in a real headless browser (Debian's chromium through Playwright), read with
the keyboard, checked by axe-core, and kept as a screenshot under .local/artifacts/browser/.

The commissioner's bearer token goes with every request the page makes, as the single sign-on
gateway in front of the service would add it; nothing else authenticates the page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, Page, Request
from services.metrics.tests.dash_facts import Clock, dash_service
from services.metrics.tests.dash_figures import six_months

from gmirs_runtime.testing.services import RunningService
from tests.browser.harness import axe_violations, browser, new_page, screenshot, tab_to

__all__ = ["browser"]  # the session's browser, used as a fixture here


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def metrics(postgres_server, kafka_broker, token_issuer) -> AsyncIterator[RunningService]:
    async for service in dash_service(
        postgres_server, kafka_broker, token_issuer, Clock(), figures=six_months()
    ):
        yield service


async def _open(metrics: RunningService, browser: Browser, requested: list[str]) -> Page:
    token = metrics.issuer.mint("commissioner-cat", ["commissioner"], metrics.audience)
    page = await new_page(browser, metrics.base_url, {"Authorization": f"Bearer {token}"})

    def seen(request: Request) -> None:
        requested.append(request.url)

    page.on("request", seen)
    return page


async def test_a_commissioner_reads_the_dashboard_with_a_keyboard_and_a_screen_reader(
    metrics: RunningService, browser: Browser
) -> None:
    requested: list[str] = []
    page = await _open(metrics, browser, requested)
    try:
        opened = await page.goto("/dashboard?month=2026-11")
        assert opened is not None
        assert opened.status == 200
        assert await page.title() == "Performance dashboard, November 2026: GMIRS Connect"
        assert await page.locator("html").get_attribute("lang") == "en"
        assert await page.locator(".tile").count() == 5
        assert await page.locator(".tag-red").inner_text() == "Below target"
        assert await page.locator("svg#reports-chart[role=img] title").count() == 1
        assert await page.locator("svg.chart[role=img]").count() == 11  # 10 boroughs + reports
        assert await page.locator("table caption").count() == 4  # a table beside every chart
        header = await page.eval_on_selector(".header", "e => getComputedStyle(e).backgroundColor")
        assert header == "rgb(11, 12, 12)"  # the stylesheet, served by metrics, applied
        await screenshot(page, "metrics-dashboard")
        assert await axe_violations(page) == [], "axe-core found violations on the dashboard"

        await tab_to(page, "a.skip-link")
        await tab_to(page, 'a[href="/packs/2026-11.xlsx"]')
        await tab_to(page, 'a[href="/packs/2026-11.json"]')
        await page.evaluate("window.scrollTo(0, 0)")
        await page.focus("a.skip-link")
        await tab_to(page, 'a[href="/dashboard?month=2026-10"]')
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert (await page.locator("h1 .caption").inner_text()) == "October 2026"
        assert await axe_violations(page) == [], "axe-core found violations on October's page"
    finally:
        await page.context.close()
    assert requested
    assert all(url.startswith(metrics.base_url) for url in requested), requested
    assert any(url.endswith("/dashboard/static/dashboard.css") for url in requested)
