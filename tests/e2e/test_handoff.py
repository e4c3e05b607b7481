"""End to end: the bot hands over to the queue, an agent takes the chat and gives it back."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.chat import Customer
from tests.helpers.stack import call, everyone_away, signed_in_agent
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def events(customer: Customer, kind: str) -> list[dict[str, Any]]:
    return [e for e in customer.tracker()["events"] if e["event"] == kind]


def test_nobody_online_is_said_honestly(stack: Stack) -> None:
    everyone_away(stack)
    replies = Customer(stack).say("can I talk to a real person please")
    assert any("Nobody from our support team is available right now" in r for r in replies)


def test_an_agent_takes_the_chat_and_hands_it_back(stack: Stack) -> None:
    token = signed_in_agent(stack, "ana")
    customer = Customer(stack)
    customer.say("hi, where is my order LS-117342?")
    replies = customer.say("can I talk to a real person please")
    # Other tests' customers may be waiting too, so the place in line varies.
    assert any(re.search(r"You're (next|number \d+) in line", r) for r in replies), replies

    status, queue = call(stack, "GET", "/queue", token)
    [entry] = [e for e in queue["queue"] if e["conversation_id"] == customer.sender]
    assert entry["trigger"] == "explicit_request" and entry["position"] >= 1
    status, claimed = call(stack, "POST", f"/handoffs/{entry['id']}/claim", token)
    assert status == 200, claimed
    said = [m["text"] for m in claimed["messages"] if m["speaker"] == "customer"]
    assert said == ["hi, where is my order LS-117342?", "can I talk to a real person please"]

    assert customer.say("hello? is someone there?") == []  # paused: the bot stays silent
    summary = "Ana confirmed LS-117342 arrives Thursday and sent the tracking link."
    status, returned = call(
        stack, "POST", f"/handoffs/{entry['id']}/return", token, {"summary": summary}
    )
    assert (status, returned["state"]) == (200, "returned")

    tracker = customer.tracker()
    assert tracker["paused"] is False
    assert tracker["slots"]["agent_summary"] == summary
    assert events(customer, "resume")
    answer = customer.say("how much is shipping?")
    assert answer and "shipping" in " ".join(answer).lower()
