"""👍/👎 under the widget's FAQ and article answers, in Debian's Chromium, against the real
servers: the customer's 👎 makes their question a miss in the editors' inbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import FOCUS_RING, axe_violations
from tests.helpers.stack import PASSWORD, add_agent, call
from tests.helpers.widget_page import UI_MS, WidgetPage
from tools.serve import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUESTION = "how much is shipping?"
# Whether the focused element (through the widget's shadow root) shows a focus ring.


@pytest.fixture
def widget(page: Page, stack: Stack) -> Iterator[WidgetPage]:
    """The demo page's widget; afterwards the customer leaves."""
    shown = WidgetPage(page, stack.handoff_url)
    yield shown
    saved = page.evaluate(f"() => localStorage.getItem({'larkspur-chat:' + stack.handoff_url!r})")
    session = json.loads(saved) if saved else {}
    if session.get("token"):
        call(stack, "POST", f"/conversations/{session['conversationId']}/leave", session["token"])


def editor_token(stack: Stack) -> str:
    name = f"edna-{uuid.uuid4().hex[:6]}"
    add_agent(stack, name, role="editor")
    status, login = call(stack, "POST", "/agent/login", body={"name": name, "password": PASSWORD})
    assert status == 200, login
    return str(login["token"])


def not_helpful_in_inbox(stack: Stack, token: str, conversation_id: str) -> dict[str, Any] | None:
    """The question of this conversation in the studio's inbox, if it is there yet."""
    status, inbox = call(stack, "GET", "/studio/api/inbox?limit=500", token)
    assert status == 200, inbox
    for cluster in inbox["clusters"]:
        for message in cluster["messages"]:
            if message["conversation_id"] == conversation_id and message["text"] == QUESTION:
                return dict(message)
    return None


def test_thumbs_down_under_an_faq_answer_puts_the_question_in_the_inbox(
    stack: Stack, page: Page, widget: WidgetPage
) -> None:
    assert stack.content_dir != ROOT  # the studio must never write into the checkout
    widget.open()
    widget.say(QUESTION)
    widget.bot_answer("$6.95")
    bot_message = page.locator(".lw-messages .lw-msg-bot").filter(has_text="$6.95")
    helpful = bot_message.get_by_role("button", name="Helpful", exact=True)
    not_helpful = bot_message.get_by_role("button", name="Not helpful", exact=True)
    expect(helpful).to_have_attribute("aria-pressed", "false")
    expect(not_helpful).to_have_attribute("aria-pressed", "false")
    expect(bot_message.get_by_role("group", name="Was this answer helpful?")).to_be_visible()
    assert axe_violations(page, "#larkspur-chat") == []

    # By keyboard: back from the message box to 👎, which shows its focus.
    expect(widget.input).to_be_focused()
    for _ in range(20):
        if not_helpful.evaluate("n => n.getRootNode().activeElement === n"):
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUS_RING) >= 2, "👎's focus is not visible"
    page.keyboard.press("Enter")
    expect(not_helpful).to_have_attribute("aria-pressed", "true")
    expect(helpful).to_have_attribute("aria-pressed", "false")
    expect(bot_message.locator(".lw-rate-said")).to_have_text("Thanks for letting us know.")

    conversation_id = widget.session()["conversationId"]
    token = editor_token(stack)
    found = None
    for _ in range(300):  # the vote is stored before the answer; the inbox regroups after
        found = not_helpful_in_inbox(stack, token, conversation_id)
        if found:
            break
        page.wait_for_timeout(100)
    assert found is not None, "the 👎'd question never reached the inbox"
    assert found["reasons"] == ["not_helpful"]
    assert found["ranking"][0][0] == "faq/shipping_cost"

    # Pressing the other one changes the vote; only one is pressed at a time.
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true", timeout=UI_MS)
    expect(not_helpful).to_have_attribute("aria-pressed", "false")
    # Shown at once, kept once the service has it: the thanks comes back only then.
    expect(bot_message.locator(".lw-rate-said")).to_have_text(
        "Thanks for letting us know.", timeout=UI_MS
    )
    # The vote survives a reload (the widget keeps it with the conversation).
    page.reload()
    expect(helpful).to_have_attribute("aria-pressed", "true", timeout=UI_MS)
