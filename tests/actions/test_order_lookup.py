"""Order lookups need a second factor, and a conversation gets only so many.

The tracker is the one the form validation gets when the customer answers "what's the
email address or billing postcode on it?" (``trackers/order_check.json``); each test runs
the real validation action over it, with the real domain, and reads the events it
returns and the messages it sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import orders
from actions.orders import (
    MAX_LOOKUP_MISSES,
    MAX_LOOKUPS_PER_WINDOW,
    ActionOrderStatus,
    SecondFactor,
    ValidateOrderStatusForm,
    ValidateReturnForm,
    read_second_factor,
)
from contracts.pii import EMAIL_DIGESTS, email_digest

MISSED = [
    SlotSet("order_number", None),
    SlotSet("order_verified", None),
    SlotSet("order_number_attempts", 0),
]
LOCKED = [*MISSED, SlotSet("requested_slot", None)]


def utc_now() -> dt.datetime:
    """Now, as the store records lookups (naive UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def sent(dispatcher: CollectingDispatcher) -> list[str]:
    """The names of the responses the action sent."""
    return [str(m.get("response")) for m in dispatcher.messages]


def slots(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The slot events, in a fixed order."""
    return sorted((e for e in events if e["event"] == "slot"), key=lambda e: e["name"])


@pytest.fixture
def answer(store_db, make_tracker, domain, pii_key):
    """Run the form validation on one answer to the second-factor question."""

    async def run(
        text: str,
        number: str = "LS-117342",
        email: str | None = None,
        sender: str = "customer-2",
        form: str = "order_status_form",
        intent: str = "inform_order_number",
        digests: list[str] | None = None,
    ) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
        if email is not None:
            digests = [email_digest(pii_key, email)]
        tracker = make_tracker(
            "order_check",
            text,
            sender_id=sender,
            metadata={EMAIL_DIGESTS: digests} if digests is not None else {},
            intent=intent,
            loop=form,
            order_number=number,
        )
        action = ValidateReturnForm() if form == "return_form" else ValidateOrderStatusForm()
        dispatcher = CollectingDispatcher()
        return await action.run(dispatcher, tracker, domain), dispatcher

    return run


def status_tracker(make_tracker, events: list[dict[str, Any]]) -> Tracker:
    """The tracker ActionOrderStatus would get after the form's events."""
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return make_tracker("order_check", **slots)


async def test_right_number_and_email_digest(answer, make_tracker, domain, pii_key):
    events, dispatcher = await answer("[email]", email="Dan@Example.com ")
    assert slots(events) == slots(
        [SlotSet("order_number_attempts", 0), SlotSet("order_verified", "LS-117342")]
    )
    assert dispatcher.messages == []  # the form ends; the status action answers

    status = CollectingDispatcher()
    await ActionOrderStatus().run(status, status_tracker(make_tracker, events), domain)
    [message] = status.messages
    assert "1Z999AA10123456784" in message["message"]


async def test_raw_email_in_the_text_works_without_redaction(answer, pii_key):
    events, dispatcher = await answer("sure, it's dan@example.com")
    assert SlotSet("order_verified", "LS-117342") in events
    # The slot holds a verdict: neither the address nor its digest is in any event.
    digest = email_digest(pii_key, "dan@example.com")
    assert not any("dan@" in str(e) or digest in str(e) for e in events)
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("LS-117342", "80302"),
        ("LS-117342", "my billing zip is 80302-1234"),
        ("LS-310557", "eh12ng"),
        ("LS-310557", "postcode EH1 2NG please"),
        ("LS-883920", "m5v 2t6"),
    ],
)
async def test_right_number_and_postcode(answer, number, text):
    events, dispatcher = await answer(text, number=number)
    assert SlotSet("order_verified", number) in events
    assert dispatcher.messages == []


async def test_wrong_pair_reads_like_an_unknown_number(answer, make_tracker, domain):
    wrong_email, said_email = await answer("[email]", email="maya@example.com", sender="a")
    wrong_code, said_code = await answer("97214", sender="b")
    unknown, said_unknown = await answer("[email]", number="LS-999999", email="dan@example.com")
    # The same events (the form asks for the number again) and the same words.
    assert slots(wrong_email) == slots(wrong_code) == slots(unknown) == slots(MISSED)
    said = [said_email.messages, said_code.messages, said_unknown.messages]
    assert [[{**m, "order_number": "N"} for m in s] for s in said] == [
        [{**said_email.messages[0], "order_number": "N"}]
    ] * 3
    assert sent(said_unknown) == ["utter_order_not_found"]

    status = CollectingDispatcher()
    await ActionOrderStatus().run(status, status_tracker(make_tracker, wrong_email), domain)
    assert status.messages == []


async def test_three_misses_lock_lookups_and_offer_a_person(answer, store_db, domain):
    for _ in range(MAX_LOOKUP_MISSES - 1):
        events, dispatcher = await answer("10115")
        assert slots(events) == slots(MISSED)
    events, dispatcher = await answer("10115")
    assert slots(events) == slots(LOCKED)  # the form stops
    assert sent(dispatcher) == ["utter_order_lookup_locked"]
    [locked] = domain["responses"]["utter_order_lookup_locked"]
    assert {"title": "Talk to a person", "payload": "/request_human"} in locked["buttons"]

    # Now even the right pair is refused, and not checked.
    events, dispatcher = await answer("80302")
    assert slots(events) == slots(LOCKED)
    assert sent(dispatcher) == ["utter_order_lookup_locked"]
    assert store_db.count_lookups("customer-2", utc_now() - dt.timedelta(hours=1)).recent == 3


async def test_a_locked_conversation_is_told_at_the_number(answer, make_tracker, domain):
    for _ in range(MAX_LOOKUP_MISSES):
        await answer("10115")
    dispatcher = CollectingDispatcher()
    fresh = make_tracker(sender_id="customer-2", order_number="LS-204381")
    events = await ValidateOrderStatusForm().run(dispatcher, fresh, domain)
    assert slots(events) == slots(LOCKED)
    assert sent(dispatcher) == ["utter_order_lookup_locked"]


async def test_limits_hold_across_a_restarted_form(answer, store_db):
    # Each answer() starts from the stored tracker: fresh slots, as a restarted form has.
    assert slots((await answer("10115", sender="again"))[0]) == slots(MISSED)
    assert slots((await answer("[email]", email="x@example.com", sender="again"))[0]) == slots(
        MISSED
    )
    events, dispatcher = await answer("10115", number="LS-204381", sender="again")
    assert slots(events) == slots(LOCKED)
    assert sent(dispatcher) == ["utter_order_lookup_locked"]

    # Right pairs count too: within the window a conversation gets so many lookups.
    for _ in range(MAX_LOOKUPS_PER_WINDOW):
        events, _ = await answer("80302", sender="busy")
        assert SlotSet("order_verified", "LS-117342") in events
    events, dispatcher = await answer("80302", sender="busy")
    assert slots(events) == slots(LOCKED)
    # Another conversation is not affected.
    assert SlotSet("order_verified", "LS-117342") in (await answer("80302", sender="other"))[0]


async def test_lookups_older_than_the_window_do_not_count(answer, store_db):
    long_ago = utc_now() - orders.LOOKUP_WINDOW - dt.timedelta(minutes=5)
    for _ in range(MAX_LOOKUPS_PER_WINDOW):
        store_db.record_lookup("customer-2", True, long_ago)
    events, _ = await answer("80302")
    assert SlotSet("order_verified", "LS-117342") in events


@pytest.mark.parametrize(
    "text", ["I don't remember", "dan@example.com or maybe dan.reyes@example.com", "80302 97214"]
)
async def test_no_single_answer_is_asked_again_and_not_counted(answer, store_db, text):
    events, dispatcher = await answer(text, intent="deny")
    assert slots(events) == slots(
        [SlotSet("order_verified", None), SlotSet("order_number_attempts", 1)]
    )
    assert sent(dispatcher) == ["utter_order_check_unreadable"]
    assert store_db.count_lookups("customer-2", dt.datetime(2000, 1, 1)).recent == 0


async def test_several_digests_in_one_message_are_no_answer(answer, pii_key):
    digests = [email_digest(pii_key, e) for e in ("dan@example.com", "maya@example.com")]
    events, dispatcher = await answer("[email] [email]", digests=digests)
    assert SlotSet("order_verified", None) in events
    assert sent(dispatcher) == ["utter_order_check_unreadable"]


async def test_second_unreadable_answer_offers_a_person(answer, make_tracker, domain):
    tracker = make_tracker(
        "order_check", "no idea", intent="deny", order_number_attempts=1, sender_id="c3"
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderStatusForm().run(dispatcher, tracker, domain)
    assert slots(events) == slots(LOCKED)
    assert sent(dispatcher) == ["utter_order_check_give_up"]
    [give_up] = domain["responses"]["utter_order_check_give_up"]
    assert give_up["buttons"][0]["payload"] == "/request_human"


@pytest.mark.parametrize("intent", ["faq", "request_human", "search_help"])
async def test_another_question_is_left_to_the_rules(answer, store_db, intent):
    events, dispatcher = await answer("do you ship to canada", intent=intent)
    assert events == []  # nothing extracted: Rasa rejects the form and the rules answer
    assert dispatcher.messages == []


async def test_return_form_tells_eligibility_only_after_the_proof(answer):
    events, dispatcher = await answer(
        "[email]", number="LS-310557", email="sam@example.com", form="return_form"
    )
    assert dispatcher.messages[0]["response"] == "utter_plain"
    assert "45-day return window" in dispatcher.messages[0]["message"]
    assert SlotSet("requested_slot", None) in events

    events, dispatcher = await answer("02139", number="LS-402219", form="return_form")
    assert SlotSet("order_verified", "LS-402219") in events
    assert dispatcher.messages == []  # eligible: the form asks for the reason next


async def test_database_unavailable_at_the_proof(answer, broken_store):
    events, dispatcher = await answer("80302")
    assert slots(events) == slots(
        [
            SlotSet("order_number", None),
            SlotSet("order_verified", None),
            SlotSet("requested_slot", None),
        ]
    )
    assert sent(dispatcher) == ["utter_store_unavailable"]


@pytest.mark.parametrize(
    ("text", "metadata", "expected"),
    [
        ("[email]", {EMAIL_DIGESTS: ["AB" * 32]}, SecondFactor("email", "ab" * 32)),
        ("it's DAN@example.com", {}, SecondFactor("email", email_digest("k", "dan@example.com"))),
        ("the zip is 80302", {}, SecondFactor("postcode", "80302")),
        ("sw1a 1aa", {}, SecondFactor("postcode", "SW1A1AA")),
        ("order LS-117342, zip 80302", {}, SecondFactor("postcode", "80302")),
        ("LS-117342", {}, None),
        ("[email]", {}, None),  # redacted without a digest: nothing to compare
        ("[email]", {EMAIL_DIGESTS: ["not-a-digest"]}, None),
        ("80302 or 80303", {}, None),
        ("no idea", {}, None),
    ],
)
def test_read_second_factor(text, metadata, expected):
    assert read_second_factor({"text": text, "metadata": metadata}, "k") == expected
