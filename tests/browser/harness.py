"""A real headless browser for tests: Playwright driving Debian's chromium, axe-core for accessibility.

Never Playwright's own browser download (it cannot work here): `./dev test` installs Debian's
`chromium` package when it is missing, and the browser is launched by `executable_path`. axe-core
comes from npm, pinned in this folder's package-lock.json and installed by `npm ci` on first use;
`axe_violations` injects it into the page under test and runs it.

Use from any test module: `from tests.browser.harness import browser  # noqa: F401` makes the
session's browser a fixture, and `new_page(browser)` gives an isolated page (its own context).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

HERE = Path(__file__).parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / ".local" / "artifacts" / "browser"
AXE_STANDARDS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def chromium() -> str:
    """Debian's chromium (see ./dev), or a failure saying how to get it."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Debian's chromium is missing: run `./dev test` (it installs it) or apt-get install chromium"
        )
    return found


def axe_script() -> Path:
    """axe.min.js of the pinned axe-core, installed from the lock file if it is missing."""
    if AXE.is_file():
        return AXE
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm (Node 20+) is required to install axe-core for the browser tests")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=HERE,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 or not AXE.is_file():
        pytest.fail(f"npm ci in {HERE} failed:\n{result.stdout}\n{result.stderr}")
    return AXE


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless chromium for the session (pages get contexts of their own)."""
    executable = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(
    browser: Browser, base_url: str, headers: Mapping[str, str] | None = None
) -> Page:
    """A page in a fresh context (no shared cookies or cache) with `base_url` for relative gotos.

    The context bypasses Content-Security-Policy only so that axe-core can be injected; the
    policy itself is checked on the response headers by the tests. `headers` go with every
    request the page makes (e.g. the bearer token a single sign-on gateway would add).
    """
    context = await browser.new_context(
        base_url=base_url,
        bypass_csp=True,
        locale="en-GB",
        extra_http_headers=dict(headers) if headers else None,
    )
    return await context.new_page()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.2 AA and best practice)."""
    await page.add_script_tag(path=str(axe_script()))
    violations: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => (await axe.run(document, {
            runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']
        })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' '))}))""",
        AXE_STANDARDS,
    )
    return violations


async def screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot under .local/artifacts/browser/ and print where it is."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def tab_to(page: Page, selector: str, *, max_presses: int = 40) -> None:
    """Press Tab until the focused element matches `selector` (keyboard only, like a person)."""
    for _ in range(max_presses):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
