"""What the real bot understood reaches the studio: the handoff channel's report, the
misses it makes, and the customer's 👎 under an answer."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from handoff.misses import UNFAMILIAR_BELOW
from tests.helpers.stack import PASSWORD, Side, add_agent, call
from tools.serve import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def turn(stack: Stack, sender: str, text: str) -> dict[str, Any]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(  # noqa: S310 - an http URL on loopback, built here
        f"{stack.rasa_url}/webhooks/handoff/turn",
        body,
        {"Content-Type": "application/json", "Authorization": f"Bearer {stack.keys.rasa_token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback, built here
        return dict(json.loads(response.read()))


def test_the_channel_says_what_the_bot_understood(stack: Stack) -> None:
    faq = turn(stack, "understanding-1", "how much is shipping?")
    assert any("$6.95" in m.get("text", "") for m in faq["messages"])
    understood = faq["understanding"]
    assert understood["intent"] == "faq"
    assert understood["answer"] == {"kind": "faq", "key": "faq/shipping_cost"}
    assert understood["ranking"][0][0] == "faq/shipping_cost"
    assert 1 <= len(understood["ranking"]) <= 3
    assert understood["familiarity"] > UNFAMILIAR_BELOW  # a question its phrases cover
    assert understood["model"]
    lost = turn(stack, "understanding-2", "purple elephants juggle quietly")["understanding"]
    assert lost["intent"] in ("nlu_fallback", "out_of_scope")  # unsure, or sure it's off-topic
    assert not lost["article_found"]  # searched in vain, or not searched (off-topic)
    assert lost["answer"] is None


def editor_token(stack: Stack, name: str) -> str:
    add_agent(stack, name, role="editor")
    status, login = call(stack, "POST", "/agent/login", body={"name": name, "password": PASSWORD})
    assert status == 200, login
    return str(login["token"])


async def inbox_texts(stack: Stack, token: str, wanted: str) -> dict[str, Any]:
    """The inbox's messages by text, once ``wanted`` is among them."""
    for _ in range(300):
        status, answer = call(stack, "GET", "/studio/api/inbox", token)
        assert status == 200, answer
        found = {m["text"]: m for c in answer["clusters"] for m in c["messages"]}
        if wanted in found:
            return found
        await asyncio.sleep(0.1)  # the relay notes the turn after the reply: poll the inbox
    raise AssertionError(f"{wanted!r} never reached the inbox")


async def test_misses_and_thumbs_down_reach_the_inbox(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    assert stack.content_dir != ROOT  # labels must never land in the checkout
    token = editor_token(stack, "edna")
    status, session = call(stack, "POST", "/sessions", body={})
    assert status == 201
    conversation_id = session["conversation_id"]
    socket = await http.ws_connect(stack.handoff_url.replace("http", "ws") + "/ws/customer")
    await socket.send_json({"type": "hello", "token": session["token"]})
    widget = Side(socket)
    await widget.wait_for("welcome")

    [answer] = await widget.reply_to("how much is shipping?", "u1")
    assert answer["rateable"] is True
    await widget.reply_to("can I rent a kayak from you for the weekend", "u2")
    found = await inbox_texts(stack, token, "can I rent a kayak from you for the weekend")
    assert found["can I rent a kayak from you for the weekend"]["reasons"] == ["out_of_scope"]

    path = f"/conversations/{conversation_id}/feedback"
    status, rated = call(
        stack, "POST", path, session["token"], {"seq": answer["seq"], "helpful": False}
    )
    assert status == 200, rated
    found = await inbox_texts(stack, token, "how much is shipping?")
    shipping = found["how much is shipping?"]
    assert shipping["reasons"] == ["not_helpful"]
    assert shipping["ranking"][0][0] == "faq/shipping_cost"
    await socket.close()
