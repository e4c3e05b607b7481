"""The customer's chat widget in Debian's Chromium, against the real servers.

Each test opens the demo store (``/demo``), which embeds the widget with one script tag,
and talks to the real Rasa through the handoff service. Agents are driven over the HTTP
API. Other tests share the running system, so nobody here assumes to be first in line.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.helpers.browser import FOCUS_RING, SCREENSHOTS, axe_violations
from tests.helpers.stack import call, everyone_away, signed_in_agent
from tests.helpers.widget_page import BOT_MS, UI_MS, WidgetPage
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

IN_LINE = re.compile(r"You're (next|number \d+) in line")
# How wide the focus outline of the focused element is, through the widget's shadow root.


@dataclass(frozen=True)
class Agent:
    name: str
    token: str


class Chat(WidgetPage):
    """The demo page with the widget on the service's own origin, and what it stored."""

    def __init__(self, page: Page, stack: Stack) -> None:
        super().__init__(page, stack.handoff_url)
        self.stack = stack
        self.queue = page.locator(".lw-queue")

    def escalate(self) -> None:
        self.say("can I talk to a real person please")

    def stored(self) -> list[dict[str, Any]]:
        """The conversation as the service stored it."""
        session = self.session()
        status, body = call(
            self.stack, "GET", f"/conversations/{session['conversationId']}", session["token"]
        )
        assert status == 200, body
        return list(body["messages"])


@pytest.fixture
def chat(page: Page, stack: Stack) -> Iterator[Chat]:
    """The widget; afterwards the customer leaves, so no test's chat waits in line for others."""
    widget = Chat(page, stack)
    yield widget
    saved = page.evaluate(f"() => localStorage.getItem({'larkspur-chat:' + stack.handoff_url!r})")
    session = json.loads(saved) if saved else {}
    if session.get("token"):
        call(stack, "POST", f"/conversations/{session['conversationId']}/leave", session["token"])


@pytest.fixture
def agent(stack: Stack) -> Iterator[Agent]:
    """A signed-in, available agent; signed out afterwards, so later tests see nobody online."""
    name = f"agent-{uuid.uuid4().hex[:6]}"
    token = signed_in_agent(stack, name)
    yield Agent(name, token)
    call(stack, "PUT", "/agent/me/availability", token, {"available": False})
    call(stack, "POST", "/agent/logout", token)


def claim(stack: Stack, agent: Agent, chat: Chat) -> int:
    """The agent takes this customer's chat from the queue: its handoff id."""
    conversation_id = chat.session()["conversationId"]
    status, queue = call(stack, "GET", "/queue", agent.token)
    [entry] = [e for e in queue["queue"] if e["conversation_id"] == conversation_id]
    status, claimed = call(stack, "POST", f"/handoffs/{entry['id']}/claim", agent.token)
    assert status == 200, claimed
    expect(
        chat.page.locator(".lw-notice", has_text=f"{agent.name} joined the chat.")
    ).to_be_visible(timeout=UI_MS)
    expect(chat.queue).to_have_text(f"You're chatting with {agent.name}.")
    return int(entry["id"])


class AgentSocket:
    """The agent's live socket, opened from a second tab on the service's own origin."""

    OPEN = """([url, token]) => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      window.agentSocket = ws;
      ws.onopen = () => ws.send(JSON.stringify({type: "hello", token}));
      ws.onmessage = (event) => {
        if (JSON.parse(event.data).type === "welcome") resolve();
      };
      ws.onerror = () => reject(new Error("the agent socket failed"));
    })"""

    def __init__(self, page: Page, stack: Stack, agent: Agent) -> None:
        self.tab = page.context.new_page()
        self.tab.goto(f"{stack.handoff_url}/healthz")
        url = stack.handoff_url.replace("http", "ws", 1) + "/ws/agent"
        self.tab.evaluate(self.OPEN, [url, agent.token])

    def send(self, frame: dict[str, Any]) -> None:
        self.tab.evaluate("frame => window.agentSocket.send(JSON.stringify(frame))", frame)


def agent_says(stack: Stack, agent: Agent, handoff_id: int, text: str) -> None:
    status, body = call(
        stack, "POST", f"/handoffs/{handoff_id}/messages", agent.token, {"text": text}
    )
    assert status == 201, body


def test_customer_asks_a_faq_and_sees_the_answer(chat: Chat) -> None:
    chat.open()
    expect(chat.log).to_have_attribute("aria-live", "polite")
    expect(chat.log).to_contain_text("Hi! I'm Larkspur's virtual assistant.")  # the greeting

    chat.say("how much is shipping?")
    expect(chat.said("customer", "how much is shipping?")).to_have_count(1, timeout=UI_MS)
    answer = chat.bot_answer("$6.95")
    link = answer.get_by_role("link", name="Shipping rates and delivery times")
    expect(link).to_have_attribute(
        "href", "https://larkspur-outdoor.example/help/shipping-rates-and-times"
    )
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(answer).not_to_contain_text("](")  # the Markdown became a link, not raw text


def test_keyboard_only_reaches_the_offline_email_form(chat: Chat) -> None:
    everyone_away(chat.stack)
    page = chat.page
    page.goto(f"{chat.stack.handoff_url}/demo")
    expect(chat.launcher).to_be_visible()
    page.keyboard.press("Shift+Tab")  # the widget is the page's last stop
    expect(chat.launcher).to_be_focused()
    assert page.evaluate(FOCUS_RING) >= 2, "the launcher's focus is not visible"
    page.keyboard.press("Enter")
    expect(chat.input).to_be_focused()
    assert page.evaluate(FOCUS_RING) >= 2, "the message box's focus is not visible"

    page.keyboard.type("what's the weather going to be like tomorrow")
    page.keyboard.press("Enter")
    person = page.get_by_role("button", name="Talk to a person")
    expect(person).to_be_visible(timeout=BOT_MS)
    page.keyboard.press("Shift+Tab")  # from the message box back to the last suggestion
    expect(person).to_be_focused()
    assert page.evaluate(FOCUS_RING) >= 2, "a suggestion's focus is not visible"
    page.keyboard.press("Enter")
    expect(chat.input).to_be_focused()  # the suggestions are gone; the keyboard is not lost
    # The button's title is shown for what was sent, not its payload.
    expect(chat.said("customer", "Talk to a person")).to_have_count(1, timeout=UI_MS)
    expect(chat.log).not_to_contain_text("/request_human")

    expect(chat.queue).to_have_text(re.compile("available right now|in line"), timeout=BOT_MS)
    assert "in line" not in chat.queue.inner_text()
    chat.bot_answer("Nobody from our support team is available right now")  # said honestly
    expect(chat.queue).to_have_text("Nobody from our support team is available right now.")
    email = page.get_by_label("Email address", exact=True)
    expect(email).to_be_visible()
    assert axe_violations(page, "#larkspur-chat") == []
    page.keyboard.press("Shift+Tab")  # the form's Send button
    page.keyboard.press("Shift+Tab")
    expect(email).to_be_focused()
    page.keyboard.type("sam.hiker@example.com")
    page.keyboard.press("Enter")
    expect(page.locator(".lw-notice", has_text="We'll reply by email")).to_be_visible(timeout=UI_MS)
    expect(email).to_have_count(0)
    expect(chat.input).to_be_focused()
    expect(chat.queue).to_contain_text("reply by email")

    page.keyboard.press("Escape")
    expect(chat.launcher).to_be_focused()
    expect(page.locator("#lw-panel")).to_be_hidden()


def test_place_in_line_and_the_whole_history_survive_a_reload(chat: Chat, agent: Agent) -> None:
    page, stack = chat.page, chat.stack
    chat.open()
    chat.say("do you ship to Canada?")
    chat.bot_answer("Canada")
    chat.escalate()
    expect(chat.queue).to_have_text(IN_LINE, timeout=BOT_MS)
    chat.bot_answer("connecting you with a person")
    conversation_id = chat.session()["conversationId"]
    before = chat.shown()
    assert len(before) >= 4, before

    page.reload()
    expect(chat.log).to_be_visible()  # the chat was open, and still is
    expect(page.locator(".lw-messages > [data-seq]")).to_have_count(len(before), timeout=UI_MS)
    assert chat.shown() == before
    assert chat.session()["conversationId"] == conversation_id
    expect(chat.queue).to_have_text(IN_LINE)

    handoff_id = claim(stack, agent, chat)
    agent_says(stack, agent, handoff_id, "Hi, I can help with shipping to Canada.")
    expect(chat.said("agent", "Hi, I can help with shipping to Canada.")).to_be_visible(
        timeout=UI_MS
    )
    expect(page.locator(".lw-msg-agent .lw-name").last).to_have_text(agent.name)

    during = chat.shown()
    page.reload()
    expect(page.locator(".lw-messages > [data-seq]")).to_have_count(len(during), timeout=UI_MS)
    assert chat.shown() == during
    expect(chat.queue).to_have_text(f"You're chatting with {agent.name}.")
    seqs = [m["seq"] for m in chat.stored()]
    assert [int(s.rsplit("#", 1)[1]) for s in during] == seqs  # every stored message, once


def test_a_message_typed_offline_is_delivered_exactly_once(chat: Chat) -> None:
    page = chat.page
    chat.open()
    chat.say("how much is shipping?")
    expect(chat.said("customer", "how much is shipping?")).to_have_count(1, timeout=UI_MS)

    page.context.set_offline(True)
    expect(page.locator(".lw-connection")).to_contain_text("You're offline")
    chat.say("do you ship to Canada?")
    draft = page.locator(".lw-pending .lw-msg-customer")
    expect(draft).to_contain_text("Sending…")
    assert [m["text"] for m in chat.stored() if m["speaker"] == "customer"] == [
        "how much is shipping?"
    ]

    page.context.set_offline(False)
    chat.bot_answer("Canada")  # sent on reconnecting, and answered
    expect(draft).to_have_count(0)
    expect(chat.said("customer", "do you ship to Canada?")).to_have_count(1)
    expect(chat.said("bot", "$6.95")).to_have_count(1)  # the reply missed offline came later
    expect(page.locator(".lw-connection")).to_have_text("")
    customer = [m["text"] for m in chat.stored() if m["speaker"] == "customer"]
    assert customer == ["how much is shipping?", "do you ship to Canada?"]


def test_a_message_whose_ack_is_lost_is_resent_and_stored_once(chat: Chat) -> None:
    """The socket drops after the service stored a message but before the widget heard so."""
    page = chat.page
    sockets: list[WebSocketRoute] = []
    sent: list[dict[str, Any]] = []

    def first_socket_loses_the_ack(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)
        if len(sockets) > 1:
            return  # later connections pass through untouched

        def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message":
                sent.append(frame)
            server.send(message)

        def to_page(message: str | bytes) -> None:
            if not sent:
                ws.send(message)
            elif json.loads(message).get("type") == "ack":
                ws.close(code=1011, reason="connection lost")
                server.close()
            # anything else after the message (its stored copy, typing) is lost too

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r"/ws/customer$"), first_socket_loses_the_ack)
    chat.open()
    chat.say("how much is shipping?")
    chat.bot_answer("$6.95")

    assert len(sockets) >= 2, "the widget did not reconnect"
    [first] = sent
    expect(chat.said("customer", "how much is shipping?")).to_have_count(1)
    expect(chat.said("bot", "$6.95")).to_have_count(1)
    expect(page.locator(".lw-pending .lw-msg")).to_have_count(0)
    stored = [m for m in chat.stored() if m["speaker"] == "customer"]
    assert [(m["text"], m["client_id"]) for m in stored] == [
        ("how much is shipping?", first["client_id"])
    ]


def test_a_session_the_service_does_not_know_starts_a_new_conversation(chat: Chat) -> None:
    page, stack = chat.page, chat.stack
    page.goto(f"{stack.handoff_url}/demo")
    gone = {"conversationId": "c-gone", "token": "no-longer-valid", "open": True}
    key = f"larkspur-chat:{stack.handoff_url}"
    page.evaluate("([key, saved]) => localStorage.setItem(key, JSON.stringify(saved))", [key, gone])
    page.reload()  # the socket refuses the token (4401): the widget starts over
    page.wait_for_function(
        """key => {
          const saved = JSON.parse(localStorage.getItem(key));
          return saved.token !== null && saved.token !== "no-longer-valid";
        }""",
        arg=key,
        timeout=UI_MS,
    )
    assert chat.session()["conversationId"] != "c-gone"
    chat.say("how much is shipping?")
    chat.bot_answer("$6.95")


def test_markup_and_script_links_render_inert(chat: Chat, agent: Agent) -> None:
    page, stack = chat.page, chat.stack
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    chat.open()
    chat.escalate()
    expect(chat.queue).to_have_text(IN_LINE, timeout=BOT_MS)
    handoff_id = claim(stack, agent, chat)

    from_customer = [
        "<img src=x onerror=alert(1)>",
        "[click me](javascript:alert(2))",
        "javascript:alert(3)",
    ]
    for text in from_customer:
        chat.say(text)
        expect(chat.said("customer", text)).to_have_count(1, timeout=UI_MS)
    from_agent = [
        "<img src=x onerror=alert(4)>",
        "[totally safe](javascript:alert(5))",
        '<a href="javascript:alert(6)">open</a>',
        "<script>alert(7)</script>",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==)",
    ]
    for text in from_agent:
        agent_says(stack, agent, handoff_id, text)
    safe_link = "Our policy: [Returns](https://larkspur-outdoor.example/help/returns)"
    agent_says(stack, agent, handoff_id, safe_link)
    console = AgentSocket(page, stack, agent)
    console.send({"type": "typing", "handoff_id": handoff_id})
    typing = page.locator(".lw-typing")
    expect(typing).to_have_text(f"{agent.name} is typing…", timeout=UI_MS)
    over_socket = '<img src="x" onerror="alert(8)"> and [more](javascript:alert(9))'
    console.send(
        {"type": "message", "handoff_id": handoff_id, "text": over_socket, "client_id": "x1"}
    )
    from_agent.append(over_socket)
    expect(typing).to_be_hidden(timeout=UI_MS)  # the agent's message replaces the indicator
    for text in from_agent:
        expect(chat.said("agent", text)).to_have_text(text, timeout=UI_MS)  # shown as typed
    expect(chat.said("agent", "Our policy: Returns")).to_have_count(1)

    widget = page.locator("#larkspur-chat")
    expect(widget.locator("img")).to_have_count(0)
    expect(widget.locator("script")).to_have_count(0)
    for name in ("click me", "totally safe", "open", "data", "more"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    links = widget.locator("a").evaluate_all("els => els.map(a => [a.href, a.rel, a.target])")
    assert links == [
        ["https://larkspur-outdoor.example/help/returns", "noopener noreferrer", "_blank"]
    ]
    page.locator(".lw-bubble", has_text="totally safe").click()  # plain text: nothing runs
    assert dialogs == []


def test_a_resolved_chat_asks_for_a_rating_that_reaches_the_reports(
    chat: Chat, agent: Agent
) -> None:
    page, stack = chat.page, chat.stack
    status, before = call(stack, "GET", "/reports", agent.token)
    assert status == 200, before
    chat.open()
    chat.escalate()
    expect(chat.queue).to_have_text(IN_LINE, timeout=BOT_MS)
    handoff_id = claim(stack, agent, chat)
    agent_says(stack, agent, handoff_id, "Your refund went out this morning.")
    expect(chat.said("agent", "Your refund went out this morning.")).to_be_visible(timeout=UI_MS)

    status, resolved = call(stack, "POST", f"/handoffs/{handoff_id}/resolve", agent.token)
    assert status == 200, resolved
    rating = page.get_by_role("group", name=re.compile("How did we do"))
    expect(rating).to_be_visible(timeout=UI_MS)
    expect(page.locator(".lw-notice", has_text="marked the conversation resolved")).to_be_visible()
    expect(chat.queue).to_have_text("")
    assert axe_violations(page, "#larkspur-chat") == []

    page.get_by_role("button", name="Send rating").click()  # no rating picked yet
    expect(page.get_by_role("alert")).to_have_text("Please pick a rating from 1 to 5.")
    page.locator(".lw-star", has_text="4").click()
    expect(page.get_by_role("radio", name="4")).to_be_checked()
    page.get_by_label("Anything to add? (optional)").fill("Quick and friendly.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator(".lw-notice", has_text="Thank you for rating this chat.")).to_be_visible(
        timeout=UI_MS
    )
    expect(rating).to_have_count(0)

    status, after = call(stack, "GET", "/reports", agent.token)
    assert after["csat"]["count"] == before["csat"]["count"] + 1
    assert after["csat"]["distribution"]["4"] == before["csat"]["distribution"]["4"] + 1
    page.reload()  # rated once: not asked again
    expect(chat.log).to_be_visible()
    expect(page.get_by_role("button", name="Send rating")).to_have_count(0)


def test_axe_finds_nothing_serious_on_the_demo_page_or_the_open_widget(chat: Chat) -> None:
    page = chat.page
    page.goto(f"{chat.stack.handoff_url}/demo")
    expect(chat.launcher).to_be_visible()
    assert axe_violations(page) == []

    chat.launcher.click()
    chat.say("how much is shipping?")
    chat.bot_answer("$6.95")
    assert axe_violations(page, "#larkspur-chat") == []
    assert axe_violations(page) == []


def test_on_a_phone_the_widget_fills_the_screen(chat: Chat) -> None:
    page = chat.page
    page.set_viewport_size({"width": 400, "height": 640})
    chat.open()
    chat.say("do you ship to Canada?")
    chat.bot_answer("Canada")

    box = page.locator("#lw-panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 400, "height": 640}
    for control in (chat.input, page.get_by_role("button", name="Send", exact=True)):
        expect(control).to_be_in_viewport()
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 400, "the page scrolls sideways"
    assert page.locator(".lw-log").evaluate("log => log.scrollWidth <= log.clientWidth")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "widget.png"
    page.screenshot(path=path, clip={"x": 0, "y": 0, "width": 400, "height": 640})
    assert 0 < path.stat().st_size < 100_000
