"""Helpers for the studio's browser tests: customers who say one thing, an editor's
token and sign-in, keyboard reach, accessibility and screenshots."""

from __future__ import annotations

import asyncio
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.helpers.browser import SCREENSHOTS, axe_violations
from tests.helpers.stack import PASSWORD, call
from tests.helpers.widget_client import WidgetClient
from tests.helpers.widget_page import BOT_MS
from tools.serve import Stack

TITLE = "Larkspur studio"
MAX_TABS = 300  # a bound on Tab presses on the way to a control, so a trap fails the test


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def in_a_thread(coroutine: Any) -> Any:
    """Run ``coroutine`` on an event loop of its own: Playwright's sync API holds this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def ask_once(http: aiohttp.ClientSession, stack: Stack, text: str) -> None:
    """A customer of their own says ``text`` through the widget protocol; the bot answers.

    One message a customer: two misunderstood in a row would hand the chat to a person."""
    widget = WidgetClient(http, stack.handoff_url)
    await widget.open()
    try:
        answer = await widget.ask(text, BOT_MS / 1000)
    finally:
        await widget.close()
    assert answer["speaker"] == "bot" and widget.problems == [], (answer, widget.problems)


async def customers_say(stack: Stack, texts: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(ask_once(http, stack, text) for text in texts))


def login_token(stack: Stack, name: str) -> str:
    status, login = call(stack, "POST", "/agent/login", body={"name": name, "password": PASSWORD})
    assert status == 200, login
    return str(login["token"])


def sign_in(page: Page, stack: Stack, name: str) -> None:
    page.goto(f"{stack.handoff_url}/studio")
    expect(page).to_have_title(TITLE)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password", exact=True).press("Enter")


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus: it is reachable by keyboard alone."""
    for _ in range(MAX_TABS):
        if target.evaluate("node => node === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def save_screenshot(page: Page, name: str) -> None:
    """The viewport as a PNG with a 128-colour palette (as the console's screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(page.screenshot())) as shot:
        shot.convert("RGB").quantize(colors=128).save(SCREENSHOTS / name, optimize=True)


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, [(v["id"], v["help"], len(v["nodes"])) for v in violations]
