"""The agents' console in Debian's Chromium, against the real Rasa, action server and service.

The customer is a second browser page on the service's own origin that speaks the widget's
protocol over ``/ws/customer`` (docs/PROTOCOL.md), so these tests do not depend on the
widget's markup; the agent uses only the console, as a person would.
"""

from __future__ import annotations

import io
import math
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from handoff.auth import ref_signature
from tests.helpers.browser import SCREENSHOTS, axe_violations
from tests.helpers.stack import PASSWORD, add_agent, call
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TITLE = "Larkspur support console"
LIVE_MS = 30_000  # a socket event, or a page update after an HTTP call
RASA_MS = 60_000  # a round trip through Rasa and the action server
IMG = "<img src=x onerror=alert(1)>"
LINK = "[pay here](javascript:alert(1))"
BARE = "javascript:alert(1)"
# Counts the tones the console plays, so the sound can be checked without a speaker.
COUNT_TONES = """
window.__tones = 0;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__tones += 1;
  return realStart.apply(this, args);
};
"""
OPEN_SOCKET = """token => new Promise((resolve, reject) => {
  window.heard = [];
  const socket = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/customer');
  window.customerSocket = socket;
  socket.onopen = () => socket.send(JSON.stringify({type: 'hello', token, last_seq: 0}));
  socket.onmessage = (e) => {
    const event = JSON.parse(e.data);
    window.heard.push(event);
    if (event.type === 'welcome') resolve();
  };
  socket.onerror = () => reject(new Error('the customer socket failed'));
})"""
FIND_EVENT = """([type, match, after]) => window.heard.find((e) =>
  e.type === type && (after === null || e.seq > after) &&
  Object.entries(match).every(([k, v]) => e[k] === v)) || null"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Customer:
    """One customer conversation on the live socket, from a page on the service's origin."""

    def __init__(self, browser: Browser, stack: Stack, ref: str) -> None:
        signature = ref_signature(stack.keys.identity_secret, ref)  # as the store's site signs it
        body = {"customer_ref": ref, "customer_ref_signature": signature}
        status, session = call(stack, "POST", "/sessions", body=body)
        assert status == 201, session
        self.conversation_id: str = session["conversation_id"]
        self.token: str = session["token"]
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.goto(f"{stack.handoff_url}/healthz")
        self.page.evaluate(OPEN_SOCKET, self.token)
        self.sent = 0

    def wait_for(
        self, kind: str, timeout: float = LIVE_MS, after: int | None = None, **match: Any
    ) -> dict[str, Any]:
        """The first event of this type (after sequence number ``after``) whose fields match."""
        found = self.page.wait_for_function(FIND_EVENT, arg=[kind, match, after], timeout=timeout)
        event: dict[str, Any] = found.json_value()
        return event

    def send(self, text: str) -> int:
        """Send a message; its sequence number once the service stored it."""
        self.sent += 1
        client_id = f"m{self.sent}"
        frame = {"type": "message", "text": text, "client_id": client_id}
        self.page.evaluate("frame => window.customerSocket.send(JSON.stringify(frame))", frame)
        return int(self.wait_for("ack", client_id=client_id)["seq"])

    def reply_to(self, text: str) -> dict[str, Any]:
        """Send a message while the bot owns the chat; the bot's first answer."""
        return self.wait_for("message", RASA_MS, after=self.send(text), speaker="bot")

    def typing(self) -> None:
        self.page.evaluate("() => window.customerSocket.send(JSON.stringify({type: 'typing'}))")


@pytest.fixture
def customers(browser: Browser, stack: Stack) -> Iterator[Callable[[str], Customer]]:
    """Make customers (by customer reference); their pages close after the test."""
    made: list[Customer] = []

    def make(ref: str) -> Customer:
        made.append(Customer(browser, stack, ref))
        return made[-1]

    yield make
    for customer in made:
        customer.context.close()


@pytest.fixture
def sign_in(page: Page, stack: Stack) -> Iterator[Callable[..., str]]:
    """Sign an agent in through the login form (on ``page`` unless told): their token, as
    the console keeps it.

    The tokens end with the test, so the stack's later tests do not find these agents
    available (an agent counts as available only while signed in).
    """
    tokens: list[str] = []

    def sign_in_as(name: str, on: Page = page) -> str:
        on.goto(f"{stack.handoff_url}/console")
        on.get_by_label("Name", exact=True).fill(name)
        on.get_by_label("Password", exact=True).fill(PASSWORD)
        on.get_by_role("button", name="Sign in").click()
        expect(on.locator("#agent-name")).to_have_text(name)
        expect(on.locator("#live")).to_have_text("Live", timeout=LIVE_MS)
        tokens.append(str(on.evaluate("sessionStorage.getItem('larkspur.console.token')")))
        return tokens[-1]

    yield sign_in_as
    for token in tokens:
        call(stack, "POST", "/agent/logout", token)


def go_available(page: Page, stack: Stack, token: str) -> None:
    switch = page.get_by_role("switch", name="Available for chats")
    expect(switch).not_to_be_checked()
    switch.check()
    expect(page.locator("#announcer")).to_have_text("You are available for new chats.")
    assert call(stack, "GET", "/agent/me", token)[1]["available"] is True


def escalate(customer: Customer, *first: str) -> None:
    """A few messages to the bot, then the explicit request for a person."""
    for text in first:
        customer.reply_to(text)
    customer.reply_to("I want to talk to a real person")


def inert(page: Page) -> dict[str, Any]:
    """What typed markup could have turned into: images, handlers, non-http(s) links."""
    found: dict[str, Any] = page.evaluate(
        """() => ({
          images: document.querySelectorAll('img').length,
          handlers: [...document.querySelectorAll('*')]
            .filter((n) => [...n.attributes].some((a) => a.name.startsWith('on'))).length,
          unsafe_links: [...document.querySelectorAll('a[href]')]
            .filter((a) => !['http:', 'https:'].includes(a.protocol)).map((a) => a.href),
        })"""
    )
    return found


def save_screenshot(page: Page, name: str) -> Path:
    """The viewport as a PNG with a 128-colour palette: a third of the size, text still crisp."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    with Image.open(io.BytesIO(page.screenshot())) as shot:
        shot.convert("RGB").quantize(colors=128).save(path, optimize=True)
    return path


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, [(v["id"], v["help"], len(v["nodes"])) for v in violations]


def test_login_refuses_a_wrong_password_and_a_dead_session_returns_to_it(
    stack: Stack, page: Page, sign_in: Callable[..., str]
) -> None:
    name = unique("lena")
    add_agent(stack, name)
    page.goto(f"{stack.handoff_url}/console")
    expect(page).to_have_title(TITLE)
    assert_accessible(page)

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.locator("#chats-view")).to_be_hidden()
    assert_accessible(page)  # with the error shown

    token = sign_in(name)
    mute = page.get_by_role("button", name="Mute alerts")
    expect(mute).to_have_attribute("aria-pressed", "false")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    page.reload()  # the session and the muting survive a reload
    expect(page.locator("#agent-name")).to_have_text(name)
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#live")).to_have_text("Live", timeout=LIVE_MS)

    assert call(stack, "POST", "/agent/logout", token)[0] == 200  # the token dies elsewhere
    page.get_by_role("switch", name="Available for chats").click()  # answered 401
    expect(page.get_by_role("alert")).to_have_text("Your session has ended. Sign in again.")
    expect(page.locator("#login-view")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('larkspur.console.token')") is None


def test_an_agent_takes_a_chat_live_and_returns_it_to_the_bot(
    stack: Stack, page: Page, sign_in: Callable[..., str], customers: Callable[[str], Customer]
) -> None:
    name, ref = unique("ana"), unique("shopper")
    add_agent(stack, name)
    page.add_init_script(COUNT_TONES)
    token = sign_in(name)
    go_available(page, stack, token)
    customers(ref).reply_to("how much is shipping?")  # an earlier conversation

    customer = customers(ref)
    escalate(customer, "where is my order LS-117342?")
    item = page.locator(f'#queue-list li[data-conversation="{customer.conversation_id}"]')
    expect(item).to_be_visible(timeout=RASA_MS)
    expect(item.locator(".badges")).to_have_text(re.compile("Priority 2.*Asked for a person"))
    expect(item.locator(".mood")).to_have_text(re.compile(r"^(Mood: \w+|Sentiment)"))
    waited = item.locator(".wait")
    expect(waited).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(waited).not_to_have_text(waited.inner_text(), timeout=5_000)  # it ticks
    expect(page).to_have_title(f"(1) {TITLE}")  # the new handoff's badge …
    page.wait_for_function("() => window.__tones >= 2", timeout=LIVE_MS)  # … and its sound

    item.get_by_role("button", name="View").click()
    expect(page).to_have_title(TITLE)  # seen
    expect(page.locator("#conversation-reason")).to_have_text("Asked for a person")
    expect(page.locator("#conversation-why")).to_contain_text("The customer asked for a person")
    transcript = page.locator("#transcript")
    said = transcript.locator(".from-customer .text")
    expect(said.first).to_have_text("where is my order LS-117342?")
    expect(transcript.locator(".from-bot").first).to_be_visible()
    expect(transcript).to_contain_text(
        "Handed to the support team: the customer asked for a person."
    )
    page.get_by_role("button", name="Claim this chat").click()
    expect(page.locator("#conversation-state")).to_have_text("With an agent")

    expect(item).to_have_count(0)  # claimed: it left the queue
    handoff_id = int(page.locator("#conversation-body").get_attribute("data-handoff") or 0)
    turns = len(call(stack, "GET", f"/handoffs/{handoff_id}", token)[1]["score_trail"])
    assert turns >= 2
    chart = page.locator("#trail svg[role=img]")
    expect(chart.locator("polyline")).to_have_count(2)  # sentiment and confidence
    expect(chart.locator("circle.dot-sentiment")).to_have_count(turns)
    expect(chart).to_have_accessible_name(re.compile(f"^Over {turns} customer messages: sentiment"))
    expect(page.locator("#history li.earlier")).to_have_count(1)
    expect(page.locator("#history")).to_contain_text("The assistant handled it alone.")

    customer.send("my parcel is still not here")
    expect(said.last).to_have_text("my parcel is still not here", timeout=LIVE_MS)
    customer.typing()
    expect(page.locator("#typing")).to_have_text("The customer is typing…", timeout=LIVE_MS)

    canned = {
        c["shortcut"]: c["text"]
        for c in call(stack, "GET", "/canned-responses", token)[1]["canned_responses"]
    }
    reply = page.get_by_label("Reply to the customer")
    reply.fill("/hi")
    reply.press("Tab")
    expect(reply).to_have_value(canned["hi"])
    reply.press("Enter")
    assert customer.wait_for("message", speaker="agent")["text"] == canned["hi"]
    expect(transcript.locator(".from-agent .text").last).to_have_text(canned["hi"])
    expect(transcript.locator(".pending")).to_have_count(0)

    page.get_by_label("Add a note (agents only)").fill("Parcel late; promised to chase UPS.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes .note-text")).to_have_text(["Parcel late; promised to chase UPS."])
    notes = call(stack, "GET", f"/handoffs/{handoff_id}", token)[1]["notes"]
    assert [n["text"] for n in notes] == ["Parcel late; promised to chase UPS."]

    page.reload()  # the console remembers the chats it holds, and rejoins them
    page.locator("#mine-list").get_by_role("button").click()
    expect(said.last).to_have_text("my parcel is still not here")
    customer.send("thanks, I'll wait")
    expect(said.last).to_have_text("thanks, I'll wait", timeout=LIVE_MS)

    assert_accessible(page)
    shot = save_screenshot(page, "console.png")
    assert 0 < shot.stat().st_size < 200_000

    page.get_by_role("button", name="Return to bot").click()
    page.get_by_label("Summary for the assistant").fill("Chasing UPS about LS-117342.")
    page.get_by_role("button", name="Hand back to the bot").click()
    customer.wait_for("bot_resumed")
    expect(page.locator("#conversation-state")).to_have_text("Returned to the bot")
    expect(reply).to_be_hidden()
    assert call(stack, "GET", f"/handoffs/{handoff_id}", token)[1]["state"] == "returned"


def test_markup_typed_by_a_customer_or_an_agent_stays_text(
    stack: Stack, page: Page, sign_in: Callable[..., str], customers: Callable[[str], Customer]
) -> None:
    name = unique("omar")
    add_agent(stack, name)
    page.add_init_script(COUNT_TONES)
    token = sign_in(name)
    go_available(page, stack, token)
    page.get_by_role("button", name="Mute alerts").click()

    customer = customers(unique("mallory"))
    escalate(customer, f"{IMG} {LINK}")
    item = page.locator(f'#queue-list li[data-conversation="{customer.conversation_id}"]')
    expect(item).to_be_visible(timeout=RASA_MS)
    expect(page).to_have_title(f"(1) {TITLE}")
    assert page.evaluate("window.__tones") == 0  # muted: the badge, no sound
    item.get_by_role("button", name="Claim").click()
    expect(page.locator("#conversation-state")).to_have_text("With an agent")

    said = page.locator("#transcript .from-customer .text")
    expect(said.first).to_have_text(f"{IMG} {LINK}")  # loaded with the handoff
    for text in (IMG, LINK, BARE):  # and live
        customer.send(text)
    expect(said).to_contain_text([f"{IMG} {LINK}", IMG, LINK, BARE], timeout=LIVE_MS)

    reply = page.get_by_label("Reply to the customer")
    for text in (IMG, LINK):
        reply.fill(text)
        reply.press("Enter")
        customer.wait_for("message", speaker="agent", text=text)
    expect(page.locator("#transcript .from-agent .text")).to_have_text([IMG, LINK])
    page.get_by_label("Add a note (agents only)").fill(IMG)
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes .note-text")).to_have_text([IMG])

    assert inert(page) == {"images": 0, "handlers": 0, "unsafe_links": []}
    page.get_by_role("button", name="Resolve").click()
    customer.wait_for("csat_request")
    expect(page.locator("#conversation-state")).to_have_text("Resolved")
    assert inert(page) == {"images": 0, "handlers": 0, "unsafe_links": []}


def test_only_the_bots_web_links_become_links(
    stack: Stack, page: Page, sign_in: Callable[..., str]
) -> None:
    session = call(stack, "POST", "/sessions", body={})[1]
    conversation_id = session["conversation_id"]
    bot_said = (
        "See [the tracking page](https://larkspur-outdoor.example/help/tracking), "
        "[this](javascript:alert(1)) or [that](JaVaScRiPt:alert(1))."
    )
    record = {
        "idempotency_key": unique("links"),
        "conversation_id": conversation_id,
        "reason": {"trigger": "low_confidence", "value": 2, "threshold": 2, "turn": 2},
        "summary": "The customer wanted help with something not yet clear.",
        "transcript": [
            {"speaker": "customer", "text": "[free money](https://evil.example/)"},
            {"speaker": "bot", "text": bot_said},
        ],
    }
    assert call(stack, "POST", "/handoffs", stack.service_token, record)[0] == 201
    name = unique("ines")
    add_agent(stack, name)
    sign_in(name)
    item = page.locator(f'#queue-list li[data-conversation="{conversation_id}"]')
    item.get_by_role("button", name="View").click()

    bot = page.locator("#transcript .from-bot")
    expect(bot).to_have_text(re.compile(r"Bot.*See the tracking page, \[this\]\(javascript"))
    link = bot.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text("the tracking page")
    expect(link).to_have_attribute("href", "https://larkspur-outdoor.example/help/tracking")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(page.locator("#transcript .from-customer").get_by_role("link")).to_have_count(0)
    assert inert(page) == {"images": 0, "handlers": 0, "unsafe_links": []}
    call(stack, "POST", f"/conversations/{conversation_id}/leave", session["token"], {})


def duration(seconds: float | None) -> str:
    """How the reports page writes a time span (JavaScript rounds halves up)."""
    if seconds is None:
        return "—"
    whole = math.floor(seconds + 0.5)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def shown(figures: dict[str, Any]) -> dict[str, str]:
    """Every figure the reports page shows, as it should write it."""
    expected = {
        "handoffs": str(figures["handoffs"]),
        "conversations": str(figures["conversations"]),
    }
    for span in ("wait", "first_response", "handle", "resolution"):
        expected[f"{span}-median"] = duration(figures[span]["median_s"])
        expected[f"{span}-mean"] = duration(figures[span]["mean_s"])
        expected[f"{span}-count"] = str(figures[span]["count"])
    csat = figures["csat"]
    expected["csat-mean"] = "—" if csat["mean"] is None else f"{csat['mean']:.2f} / 5"
    expected["csat-count"] = str(csat["count"])
    expected |= {f"csat-{n}": str(count) for n, count in csat["distribution"].items()}
    containment = figures["containment"]
    expected["containment"] = "—" if containment is None else f"{containment * 100:.1f} %"
    expected |= {f"trigger-{t}": str(n) for t, n in figures["by_trigger"].items()}
    return expected


def on_page(page: Page) -> dict[str, str]:
    figures: dict[str, str] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-figure]')]
             .map((n) => [n.dataset.figure, n.textContent]))"""
    )
    return figures


def test_reports_show_the_services_own_figures(
    stack: Stack, page: Page, sign_in: Callable[..., str]
) -> None:
    name = unique("rhea")
    add_agent(stack, name)
    token = sign_in(name)
    session = call(stack, "POST", "/sessions", body={})[1]
    record = {
        "idempotency_key": unique("report"),
        "conversation_id": session["conversation_id"],
        "reason": {"trigger": "sensitive_topic", "value": "faq/close_account", "turn": 1},
        "summary": "The customer wanted help with close account.",
        "transcript": [{"speaker": "customer", "text": "please close my account"}],
    }
    handoff_id = call(stack, "POST", "/handoffs", stack.service_token, record)[1]["handoff_id"]
    assert call(stack, "POST", f"/handoffs/{handoff_id}/claim", token)[0] == 200
    body = {"text": "Done: your account is closed."}
    assert call(stack, "POST", f"/handoffs/{handoff_id}/messages", token, body)[0] == 201
    assert call(stack, "POST", f"/handoffs/{handoff_id}/resolve", token)[0] == 200
    path = f"/conversations/{session['conversation_id']}/csat"
    assert call(stack, "POST", path, session["token"], {"rating": 5})[0] == 201

    page.get_by_role("link", name="Reports").click()
    expect(page.locator("#report-status")).to_have_text("Figures for the last 30 days.")
    figures = call(stack, "GET", "/reports?days=30", token)[1]
    assert figures["resolution"]["count"] >= 1 and figures["csat"]["count"] >= 1
    assert figures["by_trigger"].get("sensitive_topic", 0) >= 1
    expected = shown(figures)
    assert on_page(page) == expected
    expect(page.get_by_role("row", name=re.compile("Sensitive topic"))).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Period").select_option("7")
    expect(page.locator("#report-status")).to_have_text("Figures for the last 7 days.")
    assert on_page(page) == shown(call(stack, "GET", "/reports?days=7", token)[1])


def test_an_agent_passes_a_chat_to_a_colleague(
    stack: Stack,
    browser: Browser,
    page: Page,
    sign_in: Callable[..., str],
    customers: Callable[[str], Customer],
) -> None:
    ana, ben = unique("ana"), unique("ben")
    add_agent(stack, ana)
    add_agent(stack, ben)
    colleague = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        ben_page = colleague.new_page()
        ben_token = sign_in(ben, ben_page)
        go_available(ben_page, stack, ben_token)
        ben_id = call(stack, "GET", "/agent/me", ben_token)[1]["id"]
        ana_token = sign_in(ana)
        go_available(page, stack, ana_token)

        customer = customers(unique("shopper"))
        escalate(customer)
        item = page.locator(f'#queue-list li[data-conversation="{customer.conversation_id}"]')
        item.get_by_role("button", name="View").click(timeout=RASA_MS)
        page.get_by_role("button", name="Claim this chat").click()
        expect(page.locator("#conversation-state")).to_have_text("With an agent")
        handoff_id = int(page.locator("#conversation-body").get_attribute("data-handoff") or 0)

        page.get_by_role("button", name="Pass on").click()
        choice = page.get_by_label("Pass this chat to")
        expect(choice).to_be_focused()
        expect(choice.locator(f'option[value="{ben_id}"]')).to_have_text(
            f"{ben} (available, 0 of 2 chats)"
        )
        assert_accessible(page)  # with the form open
        choice.select_option(str(ben_id))
        page.get_by_role("button", name="Pass on").click()
        expect(page.locator("#conversation-status")).to_have_text(f"Passed to {ben}.")
        expect(page.get_by_label("Reply to the customer")).to_be_hidden()

        assert call(stack, "GET", f"/handoffs/{handoff_id}", ben_token)[1]["agent_id"] == ben_id
        told = customer.wait_for("message", speaker="system", text=f"{ben} took over the chat.")
        expect(ben_page.locator("#announcer")).to_have_text("A chat was passed to you.")
        ben_page.locator("#mine-list").get_by_role("button").click()
        customer.send("hello, anyone there?")
        said = ben_page.locator("#transcript .from-customer .text")
        expect(said.last).to_have_text("hello, anyone there?", timeout=LIVE_MS)
        ben_page.get_by_label("Reply to the customer").fill("Ben here, I have your chat.")
        ben_page.get_by_label("Reply to the customer").press("Enter")
        answer = customer.wait_for("message", after=told["seq"], speaker="agent")
        assert answer["text"] == "Ben here, I have your chat."
    finally:
        colleague.close()
