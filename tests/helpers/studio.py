"""Helpers for the studio's browser tests: customers who say one thing, an editor's
token and sign-in."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from playwright.sync_api import Page, expect

from tests.helpers.stack import PASSWORD, call
from tests.helpers.widget_client import WidgetClient
from tests.helpers.widget_page import BOT_MS
from tools.serve import Stack

TITLE = "Larkspur studio"


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
