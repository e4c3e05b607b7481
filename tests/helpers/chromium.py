"""Debian's Chromium through Playwright, launched as the browser tests launch it.

The same executable and flags as ``tests/browser/conftest.py`` (no browser is downloaded;
`make test` installs Debian's ``chromium`` package), for a test outside that folder that
needs one page and closes the browser again before the next test runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Root, no GPU, and no calls home (the network is closed, and Chromium would retry them).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_page() -> Iterator[Page]:
    """One page in a fresh headless Chromium; the browser closes with the block.

    Playwright's sync API keeps an event loop running while it is open, so it is opened
    and closed inside one test, leaving the thread's loop free for async tests."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser.new_context().new_page()
        finally:
            browser.close()
