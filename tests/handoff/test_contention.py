"""Agents racing for the same queue on PostgreSQL: nothing is claimed twice, no seat overfilled.

SQLite takes one writer at a time, so races only happen on PostgreSQL, where claims rely
on row locks. These tests skip without a server, and fail without one in CI.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponse
from sqlalchemy import select

from handoff.db.tables import audit_log, handoffs
from handoff.settings import Settings
from handoff.state import ENGINE
from tests.helpers.service import POSTGRES, SERVICE_TOKEN, Api, bearer, postgres_schema, record

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
async def settings() -> AsyncIterator[Settings]:
    """PostgreSQL only (overrides the conftest fixture that also gives SQLite)."""
    async for schema in postgres_schema():
        yield Settings(
            service_token=SERVICE_TOKEN,
            rasa_url="http://127.0.0.1:9",
            database_url=POSTGRES,
            database_schema=schema,
            logins_per_minute=1000,  # fifty agents log in from one test address
        )


async def agents(api: Api, count: int, capacity: int = 3) -> dict[int, str]:
    """Logged-in agents: token by agent id."""
    tokens = await asyncio.gather(*(api.agent(f"agent-{n:02}", capacity) for n in range(count)))
    ids = [(await api.call("GET", "/agent/me", t, status=200))["id"] for t in tokens]
    return dict(zip(ids, tokens, strict=True))


async def escalations(api: Api, count: int) -> list[int]:
    """New handoffs, posted at once; without transcripts, which only take time here."""
    bodies = [record(transcript=[], score_trail=[]) for _ in range(count)]
    created = await asyncio.gather(*(api.escalate(body) for body in bodies))
    assert all(c["created"] for c in created)
    return [c["handoff_id"] for c in created]


async def claim(api: Api, token: str, handoff_id: int | None) -> ClientResponse:
    path = "/queue/claim-next" if handoff_id is None else f"/handoffs/{handoff_id}/claim"
    return await api.client.post(path, headers=bearer(token))


async def claim_until_full(api: Api, token: str, ids: list[int], seed: int) -> list[int]:
    """Claim the next in line or a random handoff, until refused as at capacity: what it got."""
    rng = random.Random(seed)  # noqa: S311 - test data or jitter, not a secret
    mine = []
    for _ in range(200):
        response = await claim(api, token, None if rng.random() < 0.5 else rng.choice(ids))
        payload = await response.json()
        if response.status == 200:
            mine.append(payload["id"])
            continue
        assert response.status == 409, payload
        if payload["error"]["code"] == "at_capacity":
            return mine
        assert payload["error"]["code"] == "already_claimed", payload
    raise AssertionError(f"still claiming after 200 tries, holding {mine}")


async def claims_in_audit(api: Api) -> list[tuple[int, str]]:
    """``(handoff_id, actor)`` of every "claimed" row in the audit log."""
    query = select(audit_log.c.handoff_id, audit_log.c.actor).where(audit_log.c.action == "claimed")
    async with api.client.app[ENGINE].connect() as connection:
        return [(r.handoff_id, r.actor) for r in await connection.execute(query)]


async def holders(api: Api) -> dict[int, int]:
    """Agent id by handoff id, for every assigned handoff."""
    query = select(handoffs.c.id, handoffs.c.agent_id).where(handoffs.c.state == "assigned")
    async with api.client.app[ENGINE].connect() as connection:
        return {r.id: r.agent_id for r in await connection.execute(query)}


async def test_fifty_agents_fill_their_150_seats_from_200_handoffs_without_a_double_claim(
    api: Api,
) -> None:
    ids = await escalations(api, 200)
    tokens = await agents(api, 50, capacity=3)
    got = await asyncio.gather(
        *(claim_until_full(api, token, ids, seed) for seed, token in enumerate(tokens.values()))
    )
    assigned = await holders(api)
    assert len(assigned) == 150
    claimed = await claims_in_audit(api)
    assert Counter(h for h, _ in claimed) == dict.fromkeys(assigned, 1)  # one "claimed" row each
    assert all(actor == f"agent:{assigned[h]}" for h, actor in claimed)
    assert Counter(assigned.values()) == Counter({agent_id: 3 for agent_id in tokens})
    for agent_id, mine in zip(tokens, got, strict=True):
        assert sorted(mine) == sorted(h for h, a in assigned.items() if a == agent_id)
    queue = await api.call("GET", "/queue", next(iter(tokens.values())), status=200)
    assert sorted(e["id"] for e in queue["queue"]) == sorted(set(ids) - set(assigned))


async def test_ten_agents_grabbing_one_handoff_leave_one_winner(api: Api) -> None:
    [handoff_id] = await escalations(api, 1)
    tokens = await agents(api, 10)
    responses = await asyncio.gather(*(claim(api, t, handoff_id) for t in tokens.values()))
    payloads = [await r.json() for r in responses]
    assert sorted(r.status for r in responses) == [200] + [409] * 9
    refusals = [p["error"]["code"] for p in payloads if "error" in p]
    assert refusals == ["already_claimed"] * 9
    [winner] = [agent_id for agent_id, r in zip(tokens, responses, strict=True) if r.status == 200]
    assert await holders(api) == {handoff_id: winner}
    assert await claims_in_audit(api) == [(handoff_id, f"agent:{winner}")]


async def test_one_agent_firing_ten_claims_at_once_gets_only_their_two_seats(api: Api) -> None:
    ids = await escalations(api, 10)
    [(agent_id, token)] = (await agents(api, 1, capacity=2)).items()
    responses = await asyncio.gather(*(claim(api, token, h) for h in ids))
    payloads = [await r.json() for r in responses]
    assert sorted(r.status for r in responses) == [200] * 2 + [409] * 8
    refusals = [p["error"]["code"] for p in payloads if "error" in p]
    assert refusals == ["at_capacity"] * 8
    won = {h for h, r in zip(ids, responses, strict=True) if r.status == 200}
    assert await holders(api) == dict.fromkeys(won, agent_id)
