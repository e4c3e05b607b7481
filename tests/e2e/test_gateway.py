"""End to end through the gateway: the widget's socket, the console's socket, real Rasa.

The customer talks only to the handoff service; it relays to Rasa while the bot owns the
conversation, to the agent while a person does, and back.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.helpers.stack import Side, call, signed_in_agent
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(http: aiohttp.ClientSession, stack: Stack, path: str, token: str) -> Side:
    socket = await http.ws_connect(stack.handoff_url.replace("http", "ws") + path)
    await socket.send_json({"type": "hello", "token": token})
    side = Side(socket)
    await side.wait_for("welcome")
    return side


def tracker_events(stack: Stack, conversation_id: str, kind: str) -> list[dict[str, Any]]:
    """Rasa's record of the conversation (its HTTP API, with the token): events of a kind."""
    url = f"{stack.rasa_url}/conversations/{conversation_id}/tracker?token={stack.keys.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - an http URL on loopback, built here
        return [e for e in json.loads(response.read())["events"] if e["event"] == kind]


def user_texts(stack: Stack, conversation_id: str) -> list[str]:
    return [e.get("text") or "" for e in tracker_events(stack, conversation_id, "user")]


async def test_bot_person_bot_over_the_sockets(stack: Stack, http: aiohttp.ClientSession) -> None:
    agent_token = signed_in_agent(stack, "gwen")
    console = await connect(http, stack, "/ws/agent", agent_token)
    status, session = call(stack, "POST", "/sessions", body={})
    assert status == 201
    conversation_id = session["conversation_id"]
    widget = await connect(http, stack, "/ws/customer", session["token"])

    [answer] = await widget.reply_to("how much is shipping?", "m1")
    assert "$6.95" in answer["text"]
    proof = await widget.reply_to("where is my order LS-117342", "m2")
    assert any("postcode" in r["text"] for r in proof)  # the number alone reveals nothing
    status_reply = await widget.reply_to("my zip is 80302", "m2b")
    assert any("shipped with UPS" in r["text"] for r in status_reply)
    await widget.reply_to("I want to talk to a real person", "m3")
    place = await widget.wait_for("queue")
    assert place["position"] >= 1 and place["offline"] is False

    new = await console.wait_for("handoff_new")
    handoff_id = new["handoff"]["id"]
    assert new["handoff"]["conversation_id"] == conversation_id
    status, claimed = call(stack, "POST", f"/handoffs/{handoff_id}/claim", agent_token)
    assert status == 200, claimed
    assert (await widget.wait_for("agent_joined"))["name"] == "gwen"
    bot_said = len(tracker_events(stack, conversation_id, "bot"))

    await console.socket.send_json(
        {"type": "message", "handoff_id": handoff_id, "text": "Hi, Gwen here.", "client_id": "a1"}
    )
    assert (await widget.wait_for("message", speaker="agent"))["text"] == "Hi, Gwen here."
    details = ["detail 0", "detail 1", "detail 2"]
    for n, detail in enumerate(details):
        await widget.socket.send_json({"type": "message", "text": detail, "client_id": f"d{n}"})
    for n in range(3):  # each one acknowledged, that is, stored
        await widget.wait_for("ack", client_id=f"d{n}")
    got = [await console.wait_for("message", speaker="customer") for _ in range(3)]
    assert [m["text"] for m in got] == details
    # Rasa's record: the agent owns the chat, so nothing reached the bot and it said nothing.
    assert not set(details) & set(user_texts(stack, conversation_id))
    assert "Hi, Gwen here." not in user_texts(stack, conversation_id)
    assert len(tracker_events(stack, conversation_id, "bot")) == bot_said

    summary = "Gwen confirmed LS-117342 arrives on Thursday."
    status, back = call(
        stack, "POST", f"/handoffs/{handoff_id}/return", agent_token, {"summary": summary}
    )
    assert status == 200, back
    await widget.wait_for("bot_resumed")
    [faq] = await widget.reply_to("do you ship to Canada?", "m4")
    assert "canada" in faq["text"].lower()
    order = await widget.reply_to("where is my order?", "m5")
    texts = " ".join(r["text"] for r in order)
    assert "LS-117342" in texts and "order number" not in texts.lower()  # not asked again
    # Rasa handles a conversation's messages in order, so had any agent-owned message been
    # relayed it would be on the record by now, before the ones the bot has answered since.
    said_to_bot = user_texts(stack, conversation_id)
    assert "do you ship to Canada?" in said_to_bot and not set(details) & set(said_to_bot)

    status, history = call(stack, "GET", f"/conversations/{conversation_id}", session["token"])
    seqs = [m["seq"] for m in history["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))
    await widget.socket.close()
    await console.socket.close()
