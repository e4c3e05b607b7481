"""End to end: the real Rasa server and action server on free ports, over HTTP."""

from __future__ import annotations

import pytest

from tests.e2e.chat import Customer
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_faq_is_answered(stack: Stack) -> None:
    [answer] = Customer(stack).say("how much is shipping to my place in ohio?")
    assert "$75" in answer and "shipping-rates-and-times" in answer


def test_help_article_question(stack: Stack) -> None:
    answer = "\n".join(Customer(stack).say("how do i put up the ridgeline tent by myself"))
    assert "pitching-the-ridgeline-tent" in answer


def test_order_status_flow(stack: Stack) -> None:
    customer = Customer(stack)
    [question] = customer.say("where is my order?")
    assert "order number" in question
    [proof] = customer.say("LS-999999")
    assert "postcode" in proof  # asked before anything is looked up
    replies = " ".join(customer.say("80302"))  # a real order's postcode, the wrong number
    assert "LS-999999" in replies and "UPS" not in replies
    assert "your order number?" in replies  # asked again, not told which part was wrong
    customer.say("oh sorry, it's ls117342")
    [status] = customer.say("80302")
    assert "LS-117342" in status and "UPS" in status


def test_return_flow_records_a_return(stack: Stack) -> None:
    customer = Customer(stack)
    customer.say("I want to return my boots, order LS-402219")
    customer.say("02139")  # the order's billing postcode
    [done] = customer.say("they're too small")
    assert "RMA-" in done and "LS-402219" in done


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "lorem ipsum dolor sit amet " * 190,  # about 5,000 characters
        "¿Dónde está mi pedido? Lo compré hace una semana.",
        "我的订单在哪里",
        "<script>alert(1)</script>",
    ],
    ids=["empty", "blank", "5000-chars", "spanish", "chinese", "markup"],
)
def test_bad_input_gets_a_sensible_reply(stack: Stack, message: str) -> None:
    replies = Customer(stack).say(message)
    assert replies, "the customer got no reply at all"
    assert all("Traceback" not in r and "Exception" not in r for r in replies)
