"""End to end: the real Rasa server and action server on free ports, over HTTP."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.store import get_store, seed
from bot.serve import Stack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("var")
    store_url = f"sqlite:///{var / 'store.db'}"
    seed(get_store(store_url))
    get_store(store_url).engine.dispose()
    running = Stack(trained_model, free_port(), free_port(), var_dir=var, store_url=store_url)
    running.start()
    yield running
    running.stop()


class Customer:
    """One chat session on the REST channel."""

    def __init__(self, stack: Stack) -> None:
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = f"test-{uuid.uuid4().hex[:8]}"

    def say(self, message: str) -> list[str]:
        """Send a message; return the texts of the replies (Rasa splits at blank lines)."""
        body = json.dumps({"sender": self.sender, "message": message}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            return [m.get("text", "") for m in json.loads(response.read())]


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
    not_found, ask_again = customer.say("LS-999999")
    assert "couldn't find order LS-999999" in not_found
    assert "type it again" in ask_again
    [status] = customer.say("oh sorry, it's ls117342")
    assert "LS-117342" in status and "UPS" in status


def test_return_flow_records_a_return(stack: Stack) -> None:
    customer = Customer(stack)
    customer.say("I want to return my boots, order LS-402219")
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
