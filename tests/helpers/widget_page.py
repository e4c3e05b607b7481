"""The demo store page with the chat widget in the browser, seen as a customer sees it,
served from any base URL (the service itself, or nginx in front of it)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

BOT_MS = 60_000  # Rasa on a small machine can take a while to answer
UI_MS = 15_000


class WidgetPage:
    """``/demo`` at ``base`` and the widget's controls, by role and label."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base.rstrip("/")
        self.log = page.get_by_role("log", name="Conversation")
        self.input = page.get_by_label("Your message")
        self.connection = page.locator(".lw-connection")
        self.launcher = page.get_by_role("button", name="Chat with us")

    def open(self) -> None:
        self.page.goto(f"{self.base}/demo")
        self.launcher.click()
        expect(self.input).to_be_focused()

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def said(self, speaker: str, text: str | re.Pattern[str]) -> Locator:
        """The stored messages of one speaker with this text (not the drafts still sending)."""
        return self.page.locator(f".lw-messages .lw-msg-{speaker} .lw-bubble").filter(has_text=text)

    def bot_answer(self, text: str | re.Pattern[str]) -> Locator:
        answer = self.said("bot", text)
        expect(answer.first).to_be_visible(timeout=BOT_MS)
        return answer

    def session(self) -> dict[str, Any]:
        """What the widget keeps in localStorage (per server: the widget script's origin)."""
        key = f"larkspur-chat:{self.base}"
        saved = self.page.evaluate(f"() => JSON.parse(localStorage.getItem({key!r}))")
        assert isinstance(saved, dict) and saved["token"], saved
        return saved

    def shown(self) -> list[str]:
        """Every stored message on screen, in order, as ``speaker: text #seq``."""
        return self.page.locator(".lw-messages > [data-seq]").evaluate_all(
            "els => els.map(e => e.className.replace(/.*lw-(msg-)?/, '') + ': '"
            " + e.querySelector('.lw-bubble, .lw-notice').textContent"
            " + ' #' + e.dataset.seq)"
        )
