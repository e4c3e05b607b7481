"""The live sockets against the real app: order, resync, ownership, refusals.

Rasa is not running here (its URL points at a closed port), which is also the test of
what a customer hears when the assistant is unreachable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from handoff.hub import LAGGING, Hub
from handoff.settings import Settings
from handoff.state import STORE
from tests.helpers.service import START, Api, controlled, record, start
from tests.helpers.sockets import agent, customer, messages, messages_until, next_event


async def test_a_wrong_token_closes_the_socket(client: TestClient) -> None:
    for path in ("/ws/customer", "/ws/agent"):
        socket = await client.ws_connect(path)
        await socket.send_json({"type": "hello", "token": "nope"})
        await socket.receive()
        assert socket.close_code == 4401


async def test_a_socket_that_never_says_hello_is_closed(client: TestClient) -> None:
    socket = await client.ws_connect("/ws/customer")
    await socket.send_json({"type": "message", "text": "hi"})
    await socket.receive()
    assert socket.close_code == 4401


async def test_a_cross_origin_socket_is_refused_before_it_opens(
    api: Api, client: TestClient
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/customer", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    own = f"http://{client.host}:{client.port}"
    _, token = await api.session()
    socket = await client.ws_connect("/ws/customer", headers={"Origin": own})
    await socket.send_json({"type": "hello", "token": token})
    assert (await next_event(socket, "welcome"))["owner"] == "bot"
    await socket.close()


async def test_an_unreachable_assistant_is_said_and_a_person_offered(
    api: Api, client: TestClient
) -> None:
    conversation_id, token = await api.session()
    socket = await customer(client, token)
    await socket.send_json({"type": "message", "text": "where is my order?", "client_id": "a1"})
    assert (await next_event(socket, "ack"))["seq"] == 1
    mine, sorry = await messages(socket, 2)
    assert (mine["speaker"], mine["text"]) == ("customer", "where is my order?")
    assert sorry["speaker"] == "system" and "briefly unavailable" in sorry["text"]
    assert sorry["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]

    await socket.send_json({"type": "message", "text": "/request_human", "client_id": "a2"})
    await messages(socket, 2)  # the button press and "Handed to the support team"
    offline = await next_event(socket, "queue")
    assert offline["offline"] is True and offline["position"] == 1
    ana = await api.agent("ana")
    queue = (await api.call("GET", "/queue", ana))["queue"]
    assert [e["conversation_id"] for e in queue] == [conversation_id]
    history = await api.call("GET", f"/conversations/{conversation_id}", token)
    assert [m["seq"] for m in history["messages"]] == [1, 2, 3, 4]  # nothing lost
    await socket.close()


async def test_an_agent_and_a_customer_talk_in_order(api: Api, client: TestClient) -> None:
    conversation_id, token = await api.session()
    ana = await api.agent("ana")
    console = await agent(client, ana)
    await next_event(console, "welcome")
    widget = await customer(client, token)
    await next_event(widget, "welcome")

    handoff = await api.escalate(record(conversation_id))
    assert (await next_event(console, "handoff_new"))["handoff"]["id"] == handoff["handoff_id"]
    assert (await next_event(widget, "queue"))["position"] == 1
    await api.call("POST", f"/handoffs/{handoff['handoff_id']}/claim", ana, status=200)
    assert (await next_event(widget, "agent_joined"))["name"] == "ana"

    hid = handoff["handoff_id"]
    for n in range(3):
        await console.send_json(
            {"type": "message", "handoff_id": hid, "text": f"agent {n}", "client_id": f"g{n}"}
        )
        await widget.send_json({"type": "message", "text": f"customer {n}", "client_id": f"c{n}"})
    for socket in (widget, console):
        seen = await messages_until(socket, "agent 2", "customer 2")
        seqs = [m["seq"] for m in seen]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, none skipped
        texts = [m["text"] for m in seen]
        assert [t for t in texts if t.startswith("agent ")] == ["agent 0", "agent 1", "agent 2"]
        assert [t for t in texts if t.startswith("customer ")] == [
            "customer 0",
            "customer 1",
            "customer 2",
        ]

    await widget.send_json({"type": "typing"})
    typing = await next_event(console, "typing")
    assert (typing["speaker"], typing["conversation_id"]) == ("customer", conversation_id)
    await api.call("POST", f"/handoffs/{hid}/resolve", ana, status=200)
    assert (await next_event(widget, "csat_request"))["type"] == "csat_request"
    await widget.close()
    await console.close()


async def test_a_reconnecting_customer_gets_exactly_what_they_missed(
    api: Api, client: TestClient
) -> None:
    conversation_id, token = await api.session()
    handoff = await api.escalate(record(conversation_id))
    ana = await api.agent("ana")
    hid = handoff["handoff_id"]
    await api.call("POST", f"/handoffs/{hid}/claim", ana, status=200)
    widget = await customer(client, token)
    welcome = await next_event(widget, "welcome")
    assert welcome["owner"] == "agent"
    backlog = await api.call("GET", f"/conversations/{conversation_id}/messages", token)
    last_seen = backlog["messages"][-1]["seq"]
    await widget.close()  # the customer's connection drops

    for n in range(3):
        await api.call("POST", f"/handoffs/{hid}/messages", ana, {"text": f"while away {n}"}, 201)
    widget = await customer(client, token, last_seq=last_seen)
    missed = await messages(widget, 3)
    assert [m["text"] for m in missed] == ["while away 0", "while away 1", "while away 2"]
    assert [m["seq"] for m in missed] == [last_seen + 1, last_seen + 2, last_seen + 3]

    client_id = uuid.uuid4().hex
    for _ in range(2):  # sent, connection lost before the ack, sent again
        await widget.send_json(
            {"type": "message", "text": "did you get this?", "client_id": client_id}
        )
    first, second = await next_event(widget, "ack"), await next_event(widget, "ack")
    assert first["seq"] == second["seq"]
    stored = await api.call("GET", f"/conversations/{conversation_id}/messages", token)
    assert [m["text"] for m in stored["messages"]].count("did you get this?") == 1
    await widget.close()


async def test_an_agent_cannot_write_into_a_chat_they_do_not_hold(
    api: Api, client: TestClient
) -> None:
    handoff = await api.escalate()
    ben = await api.agent("ben")
    console = await agent(client, ben)
    await next_event(console, "welcome")
    await console.send_json({"type": "message", "handoff_id": handoff["handoff_id"], "text": "hi"})
    refused = await next_event(console, "error")
    assert refused["code"] == "not_your_conversation"
    await console.close()


async def test_the_agent_hears_when_the_customer_leaves(api: Api, client: TestClient) -> None:
    conversation_id, token = await api.session()
    handoff = await api.escalate(record(conversation_id))
    ana = await api.agent("ana")
    await api.call("POST", f"/handoffs/{handoff['handoff_id']}/claim", ana, status=200)
    console = await agent(client, ana)
    await next_event(console, "welcome")
    await api.call("POST", f"/conversations/{conversation_id}/leave", token, status=200)
    assert (await next_event(console, "customer_left"))["conversation_id"] == conversation_id
    assert (await next_event(console, "released"))["handoff_id"] == handoff["handoff_id"]
    await console.close()


async def test_an_idle_socket_is_closed(settings: Settings) -> None:
    client = await start(replace(settings, ws_idle_s=1))
    try:
        _, token = await Api(client).session()
        socket = await customer(client, token)
        await next_event(socket, "welcome")
        closed = await asyncio.wait_for(socket.receive(), 5)
        assert closed.type == aiohttp.WSMsgType.CLOSE and socket.close_code == 1001
    finally:
        await client.close()


def test_a_reader_that_falls_behind_is_cut_off_not_buffered() -> None:
    hub = Hub(inbox_size=3)
    with hub.subscribe("conversation:x") as slow, hub.subscribe("conversation:x") as fast:
        for n in range(10):
            hub.publish("conversation:x", {"type": "sync", "seq": n})
            while not fast.queue.empty():
                fast.queue.get_nowait()
        assert slow.lagging and not fast.lagging
        assert slow.queue.qsize() == 4  # three events, then the one that says "resync"
        assert [slow.queue.get_nowait() for _ in range(4)][-1] is LAGGING
    assert hub.listeners("conversation:x") == 0


async def test_only_recent_customer_messages_nobody_answered_are_asked_again(
    api: Api, client: TestClient
) -> None:
    store, clock = client.app[STORE], controlled(client)
    stale, answered, waiting, twice = [(await api.session())[0] for _ in range(4)]
    clock.later(START, -20)
    await store.customer_message(stale, "anyone?", "s1")  # before the window
    clock.later(START, 0)
    await store.customer_message(answered, "hello", "a1")
    await store.say(answered, "bot", "Hi! How can I help?")
    await store.customer_message(waiting, "how much is shipping?", "w1")
    clock.later(START, 1)
    await store.customer_message(twice, "my order", "t1")
    await store.customer_message(twice, "is late", "t2")

    found = await store.unanswered(START - dt.timedelta(minutes=15))
    assert found == [(waiting, 1, "how much is shipping?"), (twice, 2, "is late")]
