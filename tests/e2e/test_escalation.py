"""End to end: escalation through the real Rasa and action servers."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.chat import Customer
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def outbox_record(stack: Stack, conversation_id: str) -> dict:
    """The escalation the action server stored for the conversation."""
    engine = create_engine(f"sqlite:///{stack.var_dir / 'outbox.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT payload FROM escalation_outbox")).all()
    engine.dispose()
    records = [json.loads(r.payload) for r in rows]
    [record] = [r for r in records if r["conversation_id"] == conversation_id]
    return record


def user_events(customer: Customer) -> list[dict]:
    return [e for e in customer.tracker()["events"] if e["event"] == "user"]


def test_angry_customer_escalates_on_the_right_turn(stack: Stack) -> None:
    customer = Customer(stack)
    customer.say("hi, where is my order LS-117342?")
    customer.say("it was supposed to arrive days ago")
    replies = customer.say("THIS IS RIDICULOUS, THIRD TIME I'M ASKING. USELESS!!!")
    assert any("sorry" in r.lower() for r in replies)
    assert any("support team" in r for r in replies)

    record = outbox_record(stack, customer.sender)
    assert record["reason"]["trigger"] == "strong_negative"
    assert record["reason"]["turn"] == 3
    assert record["reason"]["value"] <= record["reason"]["threshold"]
    assert [t["turn"] for t in record["score_trail"]] == [1, 2, 3]
    assert record["score_trail"][2]["sentiment"] <= -0.6
    assert record["score_trail"][2]["level"] in ("frustrated", "angry")
    assert "strongly negative" in record["summary"]
    assert f"sounded {record['score_trail'][2]['level']}" in record["summary"]
    speakers = {line["speaker"] for line in record["transcript"]}
    assert speakers == {"customer", "bot"}

    events = customer.tracker()["events"]
    assert any(e["event"] == "pause" for e in events)
    assert all("sentiment" in e["parse_data"] for e in user_events(customer))


def test_polite_customer_is_clarified_once_then_escalated(stack: Stack) -> None:
    customer = Customer(stack)
    customer.say("hello there")
    first = customer.say("blorf snazzle the quibbit?")
    assert any("say it another way" in r for r in first)
    second = customer.say("zxq wibble frotz plonk")
    assert not any("say it another way" in r for r in second)  # no second clarification
    assert any("support team" in r for r in second)
    record = outbox_record(stack, customer.sender)
    assert (record["reason"]["trigger"], record["reason"]["turn"]) == ("low_confidence", 3)

    third = customer.say("hellooo? anyone?")
    assert third == []  # paused for a person: the bot stays silent, no third fallback


def test_explicit_request_hands_over(stack: Stack) -> None:
    customer = Customer(stack)
    replies = customer.say("can I talk to a real person please")
    assert any("support team" in r for r in replies)
    assert outbox_record(stack, customer.sender)["reason"]["trigger"] == "explicit_request"


def test_mild_frustration_is_acknowledged_before_the_answer(stack: Stack) -> None:
    [answer] = Customer(stack).say("this is getting a bit annoying. how much is shipping to ohio?")
    assert answer.startswith("I'm sorry this has been frustrating.")
    assert "$75" in answer
