"""The widget in Debian's Chromium through nginx over TLS, as customers reach it in production.

nginx (deploy/nginx/larkspur.conf, with the test's own certificate, which the browser
context is told to accept) fronts a handoff service that trusts it and relays to the
shared stack's real Rasa. The page, the session and the socket all go through nginx.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.nginx import Nginx, behind_nginx, make_certificate
from tests.helpers.widget_page import UI_MS, WidgetPage
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def proxied(tmp_path: Path, stack: Stack) -> Iterator[Nginx]:
    """The stack's handoff service, once more on its own port and database, behind nginx."""
    env = dict(stack.parts["handoff"].env)
    for name in ("HANDOFF_PORT", "HANDOFF_DATABASE_URL"):
        env.pop(name)  # its own: Service sets them
    with behind_nginx(tmp_path, make_certificate(tmp_path / "tls"), **env) as (_, nginx):
        yield nginx


@pytest.fixture
def secure_page(browser: Browser) -> Iterator[Page]:
    """A fresh context that accepts the test's own certificate (and only its errors)."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_the_widget_chats_through_nginx_survives_a_reload_and_a_dropped_connection(
    secure_page: Page, proxied: Nginx
) -> None:
    page = secure_page
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    chat = WidgetPage(page, proxied.origin)
    chat.open()
    protocol = "() => performance.getEntriesByType('navigation')[0].nextHopProtocol"
    assert page.evaluate(protocol) == "h2"  # the page over HTTP/2; the socket over HTTP/1.1
    chat.say("how much is shipping?")
    chat.bot_answer("$6.95")
    wss = proxied.origin.replace("https", "wss", 1) + "/ws/customer"
    assert sockets and set(sockets) == {wss}
    conversation_id = chat.session()["conversationId"]
    before = chat.shown()

    page.reload()
    expect(chat.log).to_be_visible()  # the chat was open, and still is
    expect(page.locator(".lw-messages > [data-seq]")).to_have_count(len(before), timeout=UI_MS)
    assert chat.shown() == before
    assert chat.session()["conversationId"] == conversation_id

    opened = len(sockets)
    proxied.stop()  # every connection through it drops, the socket too
    expect(chat.connection).to_contain_text("Reconnecting", timeout=UI_MS)
    proxied.start()
    expect(chat.connection).to_have_text("", timeout=UI_MS)  # back, with nobody's help
    assert len(sockets) > opened

    chat.say("do you ship to Canada?")
    chat.bot_answer("Canada")
    expect(chat.said("customer", "do you ship to Canada?")).to_have_count(1)
    expect(chat.said("bot", "$6.95")).to_have_count(1)  # nothing shown twice after resync
    assert chat.session()["conversationId"] == conversation_id
