"""Debian's Chromium driven by Playwright, against the real servers (the ``stack`` fixture).

No browser is downloaded: `make test` installs Debian's ``chromium`` package when it is
missing, and Playwright launches ``/usr/bin/chromium``. axe-core comes from the npm
registry (``package.json``; `make test` runs ``npm ci``) and is injected into pages.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from tests.helpers.chromium import CHROMIUM, FLAGS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# Per module: Playwright's sync API keeps an event loop running while it is open, and the
# async tests that run after the browser tests need the thread's loop free.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies, no storage) per test; dialogs fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", refuse)
    yield opened
    context.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"
