"""The browser harness itself: Debian's chromium runs, and axe-core does report violations."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser.harness import axe_violations, browser, chromium

__all__ = ["browser"]


async def test_axe_finds_an_unlabelled_field_in_debians_chromium(browser: Browser) -> None:
    assert browser.version.split(".")[0].isdigit()
    assert chromium().startswith("/usr/")  # the Debian package, not a Playwright download
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.set_content(
            '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
            '<body><main><h1>Form</h1><input type="text"></main></body></html>'
        )
        found = {v["id"] for v in await axe_violations(page)}
    finally:
        await context.close()
    assert "label" in found
