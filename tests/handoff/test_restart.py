"""The service killed with SIGKILL mid-conversation: nothing acknowledged is lost.

Acknowledged means committed, so after a restart both sides reconnect with the last
sequence number they saw and carry on; tokens live in the database, so nobody logs in
again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers.process import PASSWORD, Service, post
from tests.helpers.service import SERVICE_TOKEN, record


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    running = Service(tmp_path)
    running.add_agent("rita")
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.process.terminate()
        running.process.wait(timeout=10)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def socket(http: aiohttp.ClientSession, url: str, hello: dict[str, Any]) -> Any:
    ws = await http.ws_connect(url.replace("http", "ws"))
    await ws.send_json({"type": "hello", **hello})
    return ws


async def events(ws: Any, kind: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < count:
        event = await asyncio.wait_for(ws.receive_json(), 10)
        if event["type"] == kind:
            found.append(event)
    return found


async def acks_and_last_message(ws: Any, count: int) -> tuple[list[int], int]:
    """Read until ``count`` acks arrived: their seqs, and the last message seq seen."""
    acked, last = [], 0
    while len(acked) < count:
        event = await asyncio.wait_for(ws.receive_json(), 10)
        if event["type"] == "ack":
            acked.append(event["seq"])
        elif event["type"] == "message":
            last = max(last, event["seq"])
    return acked, last


async def test_a_killed_service_restarts_with_every_acknowledged_message(
    service: Service, http: aiohttp.ClientSession
) -> None:
    login = await post(http, service.url + "/agent/login", {"name": "rita", "password": PASSWORD})
    agent_token = login["token"]
    session = await post(http, service.url + "/sessions", {})
    conversation_id, token = session["conversation_id"], session["token"]
    handoff = await post(
        http,
        service.url + "/handoffs",
        record(conversation_id, transcript=[], score_trail=[]),
        SERVICE_TOKEN,
    )
    hid = handoff["handoff_id"]
    await post(http, f"{service.url}/handoffs/{hid}/claim", {}, agent_token)

    widget = await socket(http, service.url + "/ws/customer", {"token": token})
    console = await socket(http, service.url + "/ws/agent", {"token": agent_token})
    for n in range(3):
        await widget.send_json({"type": "message", "text": f"customer {n}", "client_id": f"c{n}"})
        await console.send_json(
            {"type": "message", "handoff_id": hid, "text": f"agent {n}", "client_id": f"a{n}"}
        )
    customer_acked, customer_saw = await acks_and_last_message(widget, 3)
    agent_acked, _ = await acks_and_last_message(console, 3)
    acked = customer_acked + agent_acked

    service.kill()  # no goodbye: whatever was not committed is gone
    await widget.close()
    await console.close()
    service.start()

    async with http.get(
        f"{service.url}/conversations/{conversation_id}/messages",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        stored = {m["seq"]: m["text"] for m in (await response.json())["messages"]}
    assert set(acked) <= set(stored)
    assert sorted(t for t in stored.values() if t.startswith(("customer", "agent"))) == [
        "agent 0",
        "agent 1",
        "agent 2",
        "customer 0",
        "customer 1",
        "customer 2",
    ]

    widget = await socket(
        http, service.url + "/ws/customer", {"token": token, "last_seq": customer_saw}
    )
    resynced = await events(widget, "message", max(stored) - customer_saw)
    assert [m["seq"] for m in resynced] == list(range(customer_saw + 1, max(stored) + 1))
    console = await socket(http, service.url + "/ws/agent", {"token": agent_token})
    await events(console, "welcome", 1)
    await widget.send_json({"type": "message", "text": "still there?", "client_id": "c0"})
    assert (await events(widget, "ack", 1))[0]["seq"] == acked[0]  # a resend, stored once
    await widget.send_json({"type": "message", "text": "still there?", "client_id": "after"})
    [heard] = [m for m in await events(console, "message", 1)]
    assert heard["text"] == "still there?" and heard["handoff_id"] == hid
    await widget.close()
    await console.close()
