"""Enumeration through the real action server: 1,000 order numbers from one conversation.

The action server runs as ``tools.serve`` starts it (``python -m actions.server`` with the
install's action token and email-digest key) on a throwaway store; the test posts to its
``/webhook`` what Rasa would post at each step of the order status form: the number, the
answer to "what's the email address or billing postcode on it?", then the status action.
No reply may name an item, a carrier or a tracking number of any demo order.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from actions.store import OrderRow, Store, demo_orders, seed
from contracts.pii import EMAIL_DIGESTS, email_digest
from tools.net import free_port, wait_http
from tools.serve import ROOT

pytestmark = pytest.mark.e2e  # starts the real action server

TRACKERS = Path(__file__).parent / "trackers"
TOKEN, PII_KEY = "enumeration-actions-token", "enumeration-pii-key"
TRIES = 1000


def secrets_of(orders: list[OrderRow]) -> re.Pattern[str]:
    """What nobody may learn without the proof: items, carriers, tracking numbers."""
    words = {o.items for o in orders} | {o.carrier for o in orders if o.carrier}
    words |= {o.tracking_number for o in orders if o.tracking_number}
    return re.compile("|".join(rf"\b{re.escape(w)}\b" for w in sorted(words)))


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m actions.server`` on a free port and a freshly seeded store."""
    var = tmp_path_factory.mktemp("enumeration")
    store_url = f"sqlite:///{var / 'store.db'}"
    store = Store(store_url)
    seed(store)
    store.engine.dispose()
    port, log = free_port(), var / "actions.log"
    env = {"ACTIONS_TOKEN": TOKEN, "PII_KEY": PII_KEY, "STORE_DATABASE_URL": store_url}
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv built here, no shell
            [sys.executable, "-m", "actions.server", "--port", str(port)],
            cwd=ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1", **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", process, 120, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Conversation:
    """One conversation's calls to the action server, as Rasa makes them."""

    def __init__(self, http: aiohttp.ClientSession, url: str, sender: str) -> None:
        self.http, self.url, self.sender = http, url, sender
        self.domain = yaml.safe_load((ROOT / "domain.yml").read_text())
        self.replies: list[str] = []

    async def call(self, action: str, tracker: dict[str, Any]) -> dict[str, Any]:
        body = {"next_action": action, "sender_id": self.sender, "tracker": tracker}
        body["domain"], body["version"] = self.domain, "3.6.0"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with self.http.post(self.url + "/webhook", json=body, headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            result = dict(await answer.json())
        self.replies += [self.render(r) for r in result.get("responses", [])]
        return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}

    def render(self, response: dict[str, Any]) -> str:
        """The reply as Rasa would word it (the domain's text with the action's values)."""
        variants = self.domain["responses"].get(response.get("response"), [{"text": ""}])
        values = {k: v for k, v in response.items() if isinstance(v, str)}
        template = str(variants[-1].get("text", ""))
        return template.format_map(_Missing(values)) + " " + json.dumps(response)

    def tracker(self, name: str, text: str, slots: dict[str, Any], **message: Any) -> Any:
        state = copy.deepcopy(json.loads((TRACKERS / f"{name}.json").read_text()))
        state["sender_id"] = self.sender
        state["slots"].update(slots)
        state["latest_message"].update(text=text, **message)
        return state

    async def look_up(self, number: str, proof: str, digest: str | None = None) -> str:
        """Number, proof, status: what the customer is told at each step, joined."""
        told = len(self.replies)
        slots = await self.call("validate_order_status_form", self.number(number))
        if slots.get("requested_slot", "order_verified") is not None:  # asked for the proof
            metadata = {EMAIL_DIGESTS: [digest]} if digest else {}
            answer = self.tracker("order_check", proof, {"order_number": number}, metadata=metadata)
            slots = {
                "order_number": number,
                **await self.call("validate_order_status_form", answer),
            }
        after = self.tracker("order_check", "", {"requested_slot": None, **slots})
        await self.call("action_order_status", after)
        return " ".join(self.replies[told:])

    def number(self, number: str) -> Any:
        state = self.tracker("order_status_form", number, {"order_number": number})
        state["events"][-1]["value"] = number
        return state


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def test_a_thousand_numbers_reveal_no_order(action_server: str, http) -> None:
    orders = demo_orders(dt.date.today())
    secret = secrets_of(orders)
    known = [o.number for o in orders]
    # The demo orders first, each with another customer's email, then numbers nearby.
    numbers = known + [f"LS-{n:06d}" for n in range(100000, 100000 + TRIES - len(known))]
    guesses = [o.customer_email for o in orders[1:] + orders[:1]]
    attacker = Conversation(http, action_server, "attacker")
    for i, number in enumerate(numbers):
        guess = guesses[i % len(guesses)]
        told = await attacker.look_up(number, "[email]", email_digest(PII_KEY, guess))
        assert not secret.search(told), (number, told)
    assert sum("utter_order_lookup_locked" in r for r in attacker.replies) >= TRIES - 3

    customer = Conversation(http, action_server, "the-real-dan")
    told = await customer.look_up("LS-117342", "[email]", email_digest(PII_KEY, "dan@example.com"))
    assert "1Z999AA10123456784" in told and "UPS" in told
