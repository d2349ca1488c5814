"""The exit survey in a real headless browser, answered with the keyboard, checked by axe-core.

The link comes from a running case service (the hub asks for it); the person opens it, submits
too early (the error page), answers by keyboard alone, and sees the thank-you page. axe-core must
find no violation on the form, the error page, the thank-you page or the used-link page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest_asyncio
from playwright.async_api import Browser, Page
from services.case.tests.exit_survey_harness import CASES, SurveyCase, survey_case

from gmirs_runtime.testing.kafka import wait_for_records
from tests.browser.harness import axe_violations, browser, new_page, screenshot, tab_to

__all__ = ["browser"]  # the session's browser, used as a fixture here
COMMENT = "Talking every week helped me."


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def survey(postgres_server, kafka_broker, token_issuer) -> AsyncIterator[SurveyCase]:
    async for running in survey_case(postgres_server, kafka_broker, token_issuer):
        yield running


async def _no_violations(page: Page, name: str) -> None:
    await screenshot(page, name)
    assert await axe_violations(page) == [], f"axe-core found violations on the {name} page"


async def _choose(page: Page, name: str, position: int) -> None:
    """Tab into a radio group, select its first option with Space, then arrow down to one."""
    await tab_to(page, f"input[name={name}]")
    await page.keyboard.press("Space")
    for _ in range(position - 1):
        await page.keyboard.press("ArrowDown")
    checked = await page.locator(f"input[name={name}]:checked").get_attribute("id")
    assert checked == f"{name}-{position}"


async def test_a_person_answers_the_survey_with_the_keyboard(
    survey: SurveyCase, browser: Browser
) -> None:
    link = await survey.offer()
    page = await new_page(browser, survey.service.base_url)
    try:
        opened = await page.goto(link)
        assert opened is not None
        assert opened.status == 200
        assert await page.locator("html").get_attribute("lang") == "en"
        await _no_violations(page, "exit-survey-form")

        await tab_to(page, "button[type=submit]")
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert (await page.title()).startswith("Error: Tell us about your support")
        assert await page.locator(".error-summary li").count() == 4
        await _no_violations(page, "exit-survey-errors")

        await _choose(page, "helpfulness", 5)
        await _choose(page, "helped_most", 1)
        await _choose(page, "could_be_better", 2)
        await _choose(page, "would_recommend", 1)
        await tab_to(page, "textarea#comments")
        await page.keyboard.type(COMMENT)
        await tab_to(page, "button[type=submit]")
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert await page.locator("h1").inner_text() == "Thank you"
        await _no_violations(page, "exit-survey-thanks")

        again = await page.goto(link)
        assert again is not None
        assert again.status == 410
        await _no_violations(page, "exit-survey-used")
    finally:
        await page.context.close()

    stored = await survey.query("SELECT * FROM exit_survey_responses WHERE comments = $1", COMMENT)
    assert len(stored) == 1
    assert (stored[0]["helpfulness"], stored[0]["helped_most"]) == (5, "someone-to-talk-to")
    (record,) = await wait_for_records(
        survey.service.infra.kafka.bootstrap_servers,
        CASES,
        lambda r: (
            dict(r.headers)["ce_type"] == b"gmirs.case.exit-survey-completed.v1"
            and orjson.loads(r.value)["case_id"] == survey.cases["bolton"]
        ),
    )
    data = orjson.loads(record.value)
    assert (data["helpfulness"], data["would_recommend"]) == (5, "yes")
