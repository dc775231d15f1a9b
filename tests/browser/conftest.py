"""Browser tests: the console in a real headless Chromium (Playwright, system chromium).

They skip on a machine without /usr/bin/chromium or the ``playwright`` package
(``pip install -e '.[browser]'``), and fail instead under CI (``CI=true``), where
``.ci/run`` installs both. Screenshots of the main pages go to docs/screenshots/.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess, start_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORT = {"width": 1366, "height": 768}  # a common laptop screen


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install -e '.[browser]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. (Playwright's sync API keeps an event loop running
    while it is open, so it must be closed before tests that run their own loops.)"""
    problem = _missing()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need chromium and playwright under CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def console_server(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A real server for the module's tests (after ``browser``, so a skip starts nothing)."""
    server = start_server(tmp_path_factory.mktemp("console"), "--time-scale", "0.01")
    yield server
    code = server.stop()
    assert code == 0, f"server did not stop cleanly ({code}):\n{server.log()[-3000:]}"


class ConsolePage:
    """A browser tab on the console that fails the test on any script error or console
    error (a CSP violation, a failed fetch) and takes screenshots for the docs."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: Any) -> None:
        # A form refused with 400 is a page the browser logs as a failed load; responses
        # are checked in _response instead, where documents and sub-resources differ.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.url}")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def console(browser: Any, console_server: ServerProcess) -> Iterator[ConsolePage]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    tab = ConsolePage(context.new_page(), console_server.url)
    yield tab
    context.close()
    assert not tab.problems, tab.problems


def expect(target: Any) -> Any:
    """Playwright's ``expect``, imported when used (collection works without playwright)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=10_000)
    return playwright_expect(target)
