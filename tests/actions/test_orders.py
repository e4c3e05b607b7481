"""Order status and return flows, including their failure branches.

The second factor and the lookup limits are tested in test_order_lookup.py; here an
order counts as verified when ``order_verified`` names it, as after a matched lookup.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import (
    ActionOrderStatus,
    ActionStartReturn,
    ValidateOrderStatusForm,
    ValidateReturnForm,
)
from actions.store import ReturnRow, demo_orders
from contracts.orders import normalize_order_number


def sent(dispatcher: CollectingDispatcher) -> list[str]:
    """Every text the action sent; named responses as ``response:<name>``."""
    return [
        m.get("text") or m.get("message") or f"response:{m.get('response')}"
        for m in dispatcher.messages
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("LS-204381", "LS-204381"),
        ("ls204381", "LS-204381"),
        ("my order is ls 204381 thanks", "LS-204381"),
        ("#204381", "LS-204381"),
        ("204381", "LS-204381"),
        ("LS-20438", None),
        ("LS-2043811", None),
        ("no idea", None),
        ("", None),
    ],
)
def test_normalize_order_number(typed: str, expected: str | None) -> None:
    assert normalize_order_number(typed) == expected


async def test_form_run_takes_the_number_and_asks_for_proof(
    store_db, dispatcher, make_tracker, domain
):
    events = await ValidateOrderStatusForm().run(dispatcher, make_tracker(), domain)
    assert SlotSet("order_number", "LS-117342") in events
    assert SlotSet("order_number_attempts", 0) in events
    assert SlotSet("order_verified", None) in events  # the form asks for it next
    assert dispatcher.messages == []


async def test_status_of_a_shipped_order(store_db, dispatcher, make_tracker, domain):
    events = await ActionOrderStatus().run(
        dispatcher, make_tracker(order_number="LS-117342", order_verified="LS-117342"), domain
    )
    [text] = sent(dispatcher)
    assert events == []
    assert "shipped with UPS" in text and "1Z999AA10123456784" in text
    expected_by = (dt.date.today() + dt.timedelta(days=2)).strftime("%B %-d")
    assert expected_by in text


@pytest.mark.parametrize(
    ("number", "phrase"),
    [
        ("LS-204381", "hasn't shipped yet"),
        ("LS-402219", "was delivered by UPS"),
        ("LS-882104", "was cancelled"),
    ],
)
async def test_status_wording(store_db, dispatcher, make_tracker, domain, number, phrase):
    tracker = make_tracker(order_number=number, order_verified=number)
    await ActionOrderStatus().run(dispatcher, tracker, domain)
    assert phrase in sent(dispatcher)[0]


@pytest.mark.parametrize("verified", [None, "LS-204381"])
async def test_status_of_an_unverified_order_is_not_told(
    store_db, dispatcher, make_tracker, domain, verified
):
    # E.g. the handoff service set the order number when it handed the chat back.
    tracker = make_tracker(order_number="LS-117342", order_verified=verified)
    assert await ActionOrderStatus().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


def test_messy_number_is_normalized(store_db, dispatcher, make_tracker, domain):
    result = ValidateOrderStatusForm().validate_order_number(
        "ls117342", dispatcher, make_tracker(), domain
    )
    assert result == {
        "order_number": "LS-117342",
        "order_number_attempts": 0,
        "order_verified": None,
    }


def test_unknown_number_is_taken_like_a_known_one(store_db, dispatcher, make_tracker, domain):
    form = ValidateOrderStatusForm()
    unknown = form.validate_order_number("LS-999999", dispatcher, make_tracker(), domain)
    known = form.validate_order_number("LS-117342", dispatcher, make_tracker(), domain)
    assert unknown == {**known, "order_number": "LS-999999"}
    assert dispatcher.messages == []  # nothing says whether either exists


def test_a_number_verified_earlier_is_not_asked_again(store_db, dispatcher, make_tracker, domain):
    tracker = make_tracker(order_verified="LS-117342")
    result = ValidateOrderStatusForm().validate_order_number(
        "LS-117342", dispatcher, tracker, domain
    )
    assert result == {
        "order_number": "LS-117342",
        "order_number_attempts": 0,
        "order_verified": "LS-117342",
    }


def test_malformed_number_is_explained(store_db, dispatcher, make_tracker, domain):
    result = ValidateOrderStatusForm().validate_order_number(
        "I don't have it", dispatcher, make_tracker(), domain
    )
    assert result == {"order_number": None, "order_number_attempts": 1}
    assert sent(dispatcher) == ["response:utter_invalid_order_number"]


def test_database_unavailable_during_validation(broken_store, dispatcher, make_tracker, domain):
    result = ValidateOrderStatusForm().validate_order_number(
        "LS-117342", dispatcher, make_tracker(), domain
    )
    assert result == {"order_number": None, "order_verified": None, "requested_slot": None}
    assert sent(dispatcher) == ["response:utter_store_unavailable"]


async def test_database_unavailable_in_status_action(
    broken_store, dispatcher, make_tracker, domain
):
    events = await ActionOrderStatus().run(
        dispatcher, make_tracker(order_number="LS-117342", order_verified="LS-117342"), domain
    )
    assert events == []
    assert sent(dispatcher) == ["response:utter_store_unavailable"]


async def test_status_action_without_number_stays_quiet(store_db, dispatcher, make_tracker, domain):
    assert await ActionOrderStatus().run(dispatcher, make_tracker(order_number=None), domain) == []
    assert dispatcher.messages == []


def verified_return(number: str, dispatcher, make_tracker, domain) -> dict:
    """The return form's check of an order whose second factor matched earlier."""
    return ValidateReturnForm().validate_order_number(
        number, dispatcher, make_tracker(order_verified=number), domain
    )


def test_eligible_order_continues_to_the_reason(store_db, dispatcher, make_tracker, domain):
    result = verified_return("LS-402219", dispatcher, make_tracker, domain)
    assert result == {
        "order_number": "LS-402219",
        "order_number_attempts": 0,
        "order_verified": "LS-402219",
    }
    assert dispatcher.messages == []


def test_return_eligibility_is_not_told_before_verification(
    store_db, dispatcher, make_tracker, domain
):
    result = ValidateReturnForm().validate_order_number(
        "LS-310557", dispatcher, make_tracker(), domain
    )
    assert "requested_slot" not in result  # the form goes on to ask for the proof
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("number", "phrase"),
    [
        ("LS-310557", "45-day return window"),
        ("LS-551203", "final-sale"),
        ("LS-117342", "hasn't been delivered yet"),
        ("LS-882104", "was cancelled"),
    ],
)
def test_ineligible_orders_are_refused_with_a_reason(
    store_db, dispatcher, make_tracker, domain, number, phrase
):
    result = verified_return(number, dispatcher, make_tracker, domain)
    assert result["requested_slot"] is None
    assert result["order_number"] == number
    assert phrase in sent(dispatcher)[0]


def test_last_day_of_the_window_is_still_eligible(store_db, dispatcher, make_tracker, domain):
    # LS-220019 was delivered 40 days ago: inside the 45-day window.
    result = verified_return("LS-220019", dispatcher, make_tracker, domain)
    assert "requested_slot" not in result


async def test_return_is_recorded_once(store_db, dispatcher, make_tracker, domain):
    tracker = make_tracker(
        order_number="LS-402219", order_verified="LS-402219", return_reason="It doesn't fit"
    )
    events = await ActionStartReturn().run(dispatcher, tracker, domain)
    assert events == [SlotSet("return_reason", None)]
    assert "RMA-" in sent(dispatcher)[0] and "LS-402219" in sent(dispatcher)[0]
    with store_db._session() as session:
        [row] = session.query(ReturnRow).all()
    assert (row.order_number, row.reason) == ("LS-402219", "It doesn't fit")

    again = CollectingDispatcher()
    verified_return("LS-402219", again, make_tracker, domain)
    assert row.rma in sent(again)[0] and "already open" in sent(again)[0]


async def test_no_return_for_an_unverified_order(store_db, dispatcher, make_tracker, domain):
    tracker = make_tracker(order_number="LS-402219", return_reason="It doesn't fit")
    assert await ActionStartReturn().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []
    with store_db._session() as session:
        assert session.query(ReturnRow).count() == 0


async def test_return_with_database_down(broken_store, dispatcher, make_tracker, domain):
    tracker = make_tracker(
        order_number="LS-402219", order_verified="LS-402219", return_reason="faulty"
    )
    events = await ActionStartReturn().run(dispatcher, tracker, domain)
    assert events == [SlotSet("return_reason", None)]
    assert sent(dispatcher) == ["response:utter_store_unavailable"]


def test_store_facts_list_every_demo_order_with_its_proof() -> None:
    # Testers read data/STORE.md to know what to type; it must match the seed data.
    facts = Path("data/STORE.md").read_text()
    rows = re.findall(r"^\| (LS-\d{6}) \| [^|]+ \| (\S+@\S+) \| ([^|]+?) \|", facts, re.M)
    listed = {number: (email, postcode) for number, email, postcode in rows}
    seeded = {
        o.number: (o.customer_email, o.billing_postcode) for o in demo_orders(dt.date.today())
    }
    assert listed == seeded
