"""End to end: the bot hands over to the queue, an agent takes the chat and gives it back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.chat import Customer
from tools.serve import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def call(stack: Stack, method: str, path: str, token: str = "", body: Any = None) -> Any:
    """One request to the handoff service: ``(status, json)``."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(stack.handoff_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


PASSWORD = "correct horse battery"


def add_agent(stack: Stack, name: str) -> None:
    """An agent added with the command-line tool (password ``PASSWORD``, two chats at once)."""
    env = dict(
        os.environ,
        HANDOFF_DATABASE_URL=f"sqlite+aiosqlite:///{stack.var_dir / 'handoff.db'}",
        HANDOFF_AGENT_PASSWORD=PASSWORD,
    )
    subprocess.run(
        [sys.executable, "-m", "handoff", "add-agent", name, "--capacity", "2"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def signed_in_agent(stack: Stack, name: str) -> str:
    """An agent added with the command-line tool, logged in and available: their token."""
    add_agent(stack, name)
    status, login = call(stack, "POST", "/agent/login", body={"name": name, "password": PASSWORD})
    assert status == 200, login
    call(stack, "PUT", "/agent/me/availability", login["token"], {"available": True})
    return str(login["token"])


def events(customer: Customer, kind: str) -> list[dict[str, Any]]:
    return [e for e in customer.tracker()["events"] if e["event"] == kind]


def everyone_away(stack: Stack) -> None:
    """Every agent marked away, as at night: other tests share this running system and
    may leave an agent signed in and available."""
    engine = create_engine(f"sqlite:///{stack.var_dir / 'handoff.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE agents SET available = 0"))
    engine.dispose()


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
