"""End to end: order lookups with a second factor, through the real Rasa and action server.

Most messages go in as the handoff service sends them: email addresses already redacted
to ``[email]``, with their keyed digests in the metadata; the last test types the address
into the widget's socket and lets the handoff service do that.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from contracts.pii import EMAIL_DIGESTS, email_digest
from tests.e2e.chat import Customer
from tests.helpers.stack import Side, call
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ASK_PROOF = "what's the email address or billing postcode on it?"


def redacted(stack: Stack, email: str) -> dict[str, Any]:
    """The metadata the handoff service sends beside a message that held ``email``."""
    return {EMAIL_DIGESTS: [email_digest(stack.keys.pii_key, email)]}


def test_order_status_with_the_email(stack: Stack) -> None:
    customer = Customer(stack)
    [question] = customer.say("where is my order LS-117342?")
    assert ASK_PROOF in question and "UPS" not in question
    proof = redacted(stack, "dan@example.com")
    [status] = customer.say("it's [email]", proof)
    assert "shipped with UPS" in status and "1Z999AA10123456784" in status
    slots = customer.tracker()["slots"]
    assert slots["order_verified"] == "LS-117342"  # a verdict: not the digest, not the address
    assert proof[EMAIL_DIGESTS][0] not in str(slots)


@pytest.mark.parametrize(
    ("number", "proof", "email"),
    [
        ("LS-310557", "EH1 2NG", None),
        ("LS-883920", "m5v 2t6", None),
        ("LS-117342", "the zip is 80302", None),
        ("LS-117342", "dan@example.com", None),  # typed straight to Rasa, as in `rasa shell`
        ("LS-204381", "my email is [email]", "maya@example.com"),
        ("LS-204381", "sure, [email]", "maya@example.com"),
    ],
)
def test_ways_of_giving_the_proof(stack: Stack, number: str, proof: str, email: str | None) -> None:
    customer = Customer(stack)
    assert ASK_PROOF in customer.say(f"where is my order {number}")[0]
    replies = customer.say(proof, redacted(stack, email) if email else None)
    assert any(f"Order {number} (" in r for r in replies), replies


def test_return_with_the_postcode(stack: Stack) -> None:
    # LS-220019: test_assistant returns LS-402219 in the same running system, and an
    # order is returned once.
    customer = Customer(stack)
    [question] = customer.say("I want to return my jacket, order LS-220019")
    assert ASK_PROOF in question
    [reason] = customer.say("98103")
    assert "reason for the return" in reason
    [done] = customer.say("it's too small")
    assert "RMA-" in done and "LS-220019" in done


def test_three_misses_lock_lookups_and_offer_a_person(stack: Stack) -> None:
    customer = Customer(stack)
    customer.say("where is my order LS-117342?")
    for number in ("LS-117343", "LS-117344"):
        not_found, ask_again = customer.say("97214")
        assert "couldn't find order" in not_found and "order number" in ask_again
        assert ASK_PROOF in customer.say(number)[0]
    [locked] = customer.say("[email]", redacted(stack, "maya@example.com"))
    assert "can't look up any more orders" in locked
    [bot] = [e for e in customer.tracker()["events"] if e["event"] == "bot"][-1:]
    assert {"title": "Talk to a person", "payload": "/request_human"} in bot["data"]["buttons"]

    # A new form in the same conversation is refused at the number, right pair or not.
    customer.say("where is my order?")
    assert "can't look up any more orders" in customer.say("LS-117342")[0]
    replies = " ".join(customer.say("/request_human"))
    assert "support team" in replies


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def widget_session(stack: Stack, http: aiohttp.ClientSession) -> tuple[str, Side]:
    """A new chat in the widget's socket: its conversation id and the socket."""
    status, session = call(stack, "POST", "/sessions", body={})
    assert status == 201, session
    socket = await http.ws_connect(stack.handoff_url.replace("http", "ws") + "/ws/customer")
    await socket.send_json({"type": "hello", "token": session["token"]})
    widget = Side(socket)
    await widget.wait_for("welcome")
    return session["conversation_id"], widget


async def test_email_typed_into_the_widget(stack: Stack, http: aiohttp.ClientSession) -> None:
    conversation_id, widget = await widget_session(stack, http)

    [question] = await widget.reply_to("where is my order LS-117342", "m1")
    assert ASK_PROOF in question["text"]
    replies = await widget.reply_to("it's Dan@example.com", "m2")
    assert any("1Z999AA10123456784" in r["text"] for r in replies)

    # Rasa saw only the redacted text, and keeps a verdict, not the address.
    url = f"{stack.rasa_url}/conversations/{conversation_id}/tracker"
    with urllib.request.urlopen(f"{url}?token={stack.keys.rasa_token}", timeout=30) as answer:  # noqa: S310 - an http URL on loopback, built here
        tracker = json.loads(answer.read())
    assert "it's [email]" in [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert "example.com" not in json.dumps(tracker).lower()
    assert tracker["slots"]["order_verified"] == "LS-117342"
    await widget.socket.close()
