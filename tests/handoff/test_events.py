"""Two service instances on one PostgreSQL, their live events joined through Redis or
PostgreSQL (handoff.events): a customer on one and an agent on the other chat in order.

Real servers: PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (skipped with the
reason where they are missing, failed in CI).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from handoff.events import EVENTS, NOTIFY_LIMIT, decode, encode, fitted
from handoff.settings import Settings
from tests.helpers.service import (
    IDENTITY_SECRET,
    POSTGRES,
    SERVICE_TOKEN,
    Api,
    postgres_schema,
    record,
    start,
)
from tests.helpers.sockets import agent, customer, messages_until, next_event

REDIS = os.environ.get("HANDOFF_TEST_REDIS", "redis://127.0.0.1:6379/15")


async def redis_or_skip() -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as error:
        reason = f"Redis at {REDIS} is not available: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        await client.close(close_connection_pool=True)


@pytest.fixture(params=["redis", "postgres"])
async def pair(
    request: pytest.FixtureRequest, tmp_path: object
) -> AsyncIterator[tuple[TestClient, TestClient]]:
    """Instances A and B: one database, their events shared the way asked."""
    if request.param == "redis":
        await redis_or_skip()
    async for schema in postgres_schema():
        settings = Settings(
            service_token=SERVICE_TOKEN,
            rasa_url="http://127.0.0.1:9",
            identity_secret=IDENTITY_SECRET,
            database_url=POSTGRES,
            database_schema=schema,
            events=request.param,
            redis_url=REDIS,
            events_channel=f"t_events_{uuid.uuid4().hex[:8]}",
        )
        a = await start(settings)
        b = await start(replace(settings, port=settings.port + 1))
        try:
            yield a, b
        finally:
            await b.close()
            await a.close()


async def test_a_customer_on_one_instance_and_an_agent_on_the_other_chat_in_order(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    on_a, on_b = Api(a), Api(b)
    conversation_id, token = await on_a.session()
    ana = await on_b.agent("ana")
    console = await agent(b, ana)
    await next_event(console, "welcome")
    widget = await customer(a, token)
    await next_event(widget, "welcome")

    handoff = await on_a.escalate(record(conversation_id))  # the escalation reaches A
    assert (await next_event(console, "handoff_new"))["handoff"]["id"] == handoff["handoff_id"]
    assert (await next_event(widget, "queue"))["position"] == 1
    hid = handoff["handoff_id"]
    await on_b.call("POST", f"/handoffs/{hid}/claim", ana, status=200)  # B claims it
    assert (await next_event(widget, "agent_joined"))["name"] == "ana"
    for n in range(5):
        await console.send_json(
            {"type": "message", "handoff_id": hid, "text": f"agent {n}", "client_id": f"g{n}"}
        )
        await widget.send_json({"type": "message", "text": f"customer {n}", "client_id": f"c{n}"})
    for socket in (widget, console):
        seen = await messages_until(socket, "agent 4", "customer 4")
        seqs = [m["seq"] for m in seen]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, none twice
        texts = [m["text"] for m in seen]
        assert [t for t in texts if t.startswith("agent ")] == [f"agent {n}" for n in range(5)]
        assert [t for t in texts if t.startswith("customer ")] == [
            f"customer {n}" for n in range(5)
        ]
    await widget.send_json({"type": "typing"})
    assert (await next_event(console, "typing"))["conversation_id"] == conversation_id
    assert a.app[EVENTS].received > 0 and b.app[EVENTS].received > 0
    await widget.close()
    await console.close()


async def test_with_redis_an_instance_that_was_cut_off_gets_what_it_missed(
    pair: tuple[TestClient, TestClient],
) -> None:
    """B's reader is down while A takes an escalation; back, it reads on from the last
    entry it saw, and B's agent hears of the handoff. (PostgreSQL's NOTIFY keeps nothing
    for a listener that is away: there the console resyncs on its next event.)"""
    a, b = pair
    engine = b.app[EVENTS]
    if engine.kind != "redis":
        pytest.skip("NOTIFY keeps nothing for an absent listener (handoff/events.py)")
    on_a = Api(a)
    conversation_id, _ = await on_a.session()
    ana = await Api(b).agent("ana")
    console = await agent(b, ana)
    await next_event(console, "welcome")
    await engine.stop()
    handoff = await on_a.escalate(record(conversation_id))  # B hears nothing of it now
    engine.stopping.clear()
    engine.task = asyncio.create_task(engine.run())
    assert (await next_event(console, "handoff_new"))["handoff"]["id"] == handoff["handoff_id"]
    await console.close()


def test_a_message_nudge_too_large_to_notify_travels_without_its_message() -> None:
    event = {"type": "sync", "seq": 3, "message": {"text": "é" * 4000}}
    big = encode("a", "conversation:c", event)
    slim = fitted(big)
    assert len(slim.encode()) < NOTIFY_LIMIT
    assert '"seq": 3' in slim and "message" not in slim
    queue = {"type": "queue", "queue": [{"id": n, "summary": "x" * 300} for n in range(30)]}
    assert decode(fitted(encode("a", "agents", queue)))[2] == {"type": "lagging"}
    small = encode("a", "conversation:c", {"type": "typing"})
    assert fitted(small) == small


async def test_an_unknown_events_engine_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="local, redis or postgres"):
        Settings(events="kafka")
    with pytest.raises(ValueError, match="needs a PostgreSQL"):
        Settings(events="postgres")
    await asyncio.sleep(0)


async def test_with_redis_two_instances_share_one_rate_limit(tmp_path: object) -> None:
    """Two logins a minute from one address: two on A use the allowance, the third on B
    is refused. Each instance alone would have let it through."""
    await redis_or_skip()
    async for schema in postgres_schema():
        settings = Settings(
            service_token=SERVICE_TOKEN,
            identity_secret=IDENTITY_SECRET,
            database_url=POSTGRES,
            database_schema=schema,
            rate_limits="redis",
            redis_url=REDIS,
            logins_per_minute=2,
        )
        a, b = await start(settings), await start(settings)
        try:
            import redis.asyncio as redis

            cleaner = redis.from_url(REDIS)
            await cleaner.delete("larkspur:limit:logins:127.0.0.1")
            await cleaner.close(close_connection_pool=True)
            wrong = {"name": "nobody", "password": "wrong-password"}
            answers = [
                (await client.post("/agent/login", json=wrong)).status for client in (a, a, b)
            ]
            assert answers == [401, 401, 429]
        finally:
            await b.close()
            await a.close()
