"""Console tests: a real ``appfn serve --demo`` on loopback (one per test module) and Debian's
Chromium driven headless by Playwright (no browser download: ``apt-get install -y chromium``).

Screenshots go to ``test-artifacts/console/`` (``shot(page, "name")``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import Server, running_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM = os.environ.get("APPFN_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("console"), demo=1) as server:
        yield server


# Package scope: Playwright's sync API keeps an event loop running on the main thread while it
# is open, which would break later tests that call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (scripts/test does it as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, console_server: Server) -> Iterator[object]:
    """A fresh browser context on the server, not signed in. Dialogs (confirm) are accepted."""
    context = browser.new_context(base_url=console_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()


def sign_in(page, key: str) -> None:
    """Through the form; a page that was redirected to the form comes back where it was."""
    if "/login" not in page.url:
        page.goto("/login")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
