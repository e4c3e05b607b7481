"""Who may call what: every guarded route refuses a caller it should not serve.

Every refusal is the JSON error envelope, leaks no trace or SQL, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.db.tables import agent_tokens, agents, metadata
from handoff.db.unit import utcnow
from handoff.routes import ROUTES, Route
from handoff.settings import Settings
from handoff.state import ACCOUNTS, ENGINE, SETTINGS, STORE
from tests.helpers.service import SERVICE, Api, bearer, record, start

AGENT_ROUTES = [r for r in ROUTES if r.auth == "agent"]
CUSTOMER_ROUTES = [r for r in ROUTES if r.auth == "customer"]
STUDIO_ROUTES = [r for r in ROUTES if r.auth == "editor"]
STUDIO_IDS = {
    "miss_id": 1,
    "check_id": 1,
    "version_id": 1,
    "key": "shipping_cost",
    "slug": "refunds",
}
SECRET = "my spare key is under the blue flowerpot"  # noqa: S105 - a test credential; guards nothing real


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


async def refused(response: ClientResponse, status: int, code: str | None = None) -> str:
    """Assert the response is the envelope with this status (and code); its text."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json"
    assert "Traceback" not in text and "SELECT" not in text
    payload = json.loads(text)
    assert list(payload) == ["error"] and sorted(payload["error"]) == ["code", "message"]
    assert isinstance(payload["error"]["message"], str) and payload["error"]["message"]
    if code is not None:
        assert payload["error"]["code"] == code, payload
    return text


async def snapshot(engine: AsyncEngine) -> dict[str, list[Any]]:
    """Every row of every table, to show that a refused request changed nothing."""
    async with engine.connect() as connection:
        return {
            name: list(await connection.execute(select(table).order_by(*table.primary_key.columns)))
            for name, table in metadata.tables.items()
        }


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[TestClient]:
    """The service with tight rate limits and a 2 KiB body limit."""
    running = await start(
        replace(
            settings,
            logins_per_minute=3,
            customer_messages_per_minute=3,
            sessions_per_minute=3,
            max_body_bytes=2048,
        )
    )
    yield running
    await running.close()


# --- agent routes ------------------------------------------------------------------


@pytest.mark.usefixtures("fast_hashing")
@pytest.mark.parametrize("route", AGENT_ROUTES, ids=route_id)
async def test_an_agent_route_refuses_a_missing_wrong_malformed_or_expired_token(
    route: Route, api: Api, client: TestClient
) -> None:
    handoff = await api.escalate()
    path = route.path.format(handoff_id=handoff["handoff_id"])
    token = await api.agent("ana")
    _, customer_token = await api.session()
    before = await snapshot(client.app[ENGINE])
    cases = [
        ({}, "missing_token"),
        (bearer("not-a-real-token"), "invalid_token"),
        (bearer(customer_token), "invalid_token"),
        (SERVICE, "invalid_token"),
        ({"Authorization": "Basic xyz"}, "invalid_token"),
        ({"Authorization": f"Token {token}"}, "invalid_token"),
        ({"Authorization": "Bearer"}, "invalid_token"),
    ]
    for headers, code in cases:
        await refused(await client.request(route.method, path, headers=headers), 401, code)

    ttl = client.app[SETTINGS].agent_token_ttl_s
    later = utcnow() + dt.timedelta(seconds=ttl + 1)
    client.app[STORE].clock = lambda: later
    expired = await client.request(route.method, path, headers=bearer(token))
    await refused(expired, 401, "token_expired")
    assert await snapshot(client.app[ENGINE]) == before


@pytest.mark.usefixtures("fast_hashing")
@pytest.mark.parametrize("route", STUDIO_ROUTES, ids=route_id)
async def test_a_studio_route_refuses_agents_and_missing_wrong_or_expired_tokens(
    route: Route, api: Api, client: TestClient
) -> None:
    path = route.path.format(**STUDIO_IDS)
    editor = await api.agent("eve", role="editor")
    agent = await api.agent("ana")
    _, customer_token = await api.session()
    before = await snapshot(client.app[ENGINE])
    cases = [
        ({}, 401, "missing_token"),
        (bearer("not-a-real-token"), 401, "invalid_token"),
        (bearer(customer_token), 401, "invalid_token"),
        (SERVICE, 401, "invalid_token"),
        (bearer(agent), 403, "wrong_role"),
    ]
    for headers, status, code in cases:
        await refused(await client.request(route.method, path, headers=headers), status, code)
    ttl = client.app[SETTINGS].agent_token_ttl_s
    later = utcnow() + dt.timedelta(seconds=ttl + 1)
    client.app[STORE].clock = lambda: later
    expired = await client.request(route.method, path, headers=bearer(editor))
    await refused(expired, 401, "token_expired")
    assert await snapshot(client.app[ENGINE]) == before


@pytest.mark.usefixtures("fast_hashing")
async def test_an_editor_takes_no_chats(api: Api, client: TestClient) -> None:
    editor = await api.agent("eve", role="editor")
    await api.escalate()
    for method, path in (("POST", "/queue/claim-next"), ("GET", "/queue"), ("GET", "/agent/me")):
        response = await client.request(method, path, json={}, headers=bearer(editor))
        assert "Editors work in the studio" in await refused(response, 403, "wrong_role")
    socket = await client.ws_connect("/ws/agent")
    await socket.send_json({"type": "hello", "token": editor})
    closed = await socket.receive()
    assert closed.extra == "wrong_role"
    await socket.close()


@pytest.mark.usefixtures("fast_hashing")
async def test_a_token_works_until_its_time_to_live_ends(settings: Settings) -> None:
    client = await start(replace(settings, agent_token_ttl_s=60))
    try:
        api = Api(client)
        token = await api.agent("ana")
        now = utcnow()
        client.app[STORE].clock = lambda: now + dt.timedelta(seconds=59)
        await api.call("GET", "/agent/me", token, status=200)
        client.app[STORE].clock = lambda: now + dt.timedelta(seconds=61)
        await refused(await client.get("/agent/me", headers=bearer(token)), 401, "token_expired")
    finally:
        await client.close()


@pytest.mark.usefixtures("fast_hashing")
async def test_logout_ends_that_token_and_no_other(api: Api, client: TestClient) -> None:
    first = await api.agent("ana")
    login = {"name": "ana", "password": "ana-password"}  # a second device
    second = (await (await client.post("/agent/login", json=login)).json())["token"]
    await api.call("GET", "/agent/me", first, status=200)
    assert await api.call("POST", "/agent/logout", first, status=200) == {"logged_out": True}
    await refused(await client.get("/agent/me", headers=bearer(first)), 401, "invalid_token")
    again = await client.post("/agent/logout", headers=bearer(first))
    await refused(again, 401, "invalid_token")
    await api.call("GET", "/agent/me", second, status=200)


# --- customer routes ---------------------------------------------------------------


@pytest.mark.usefixtures("fast_hashing")
@pytest.mark.parametrize("route", CUSTOMER_ROUTES, ids=route_id)
async def test_a_customer_route_serves_only_its_own_conversation(
    route: Route, api: Api, client: TestClient
) -> None:
    victim, victim_token = await api.session()
    path = f"/conversations/{victim}/messages"
    await api.call("POST", path, victim_token, {"text": SECRET}, 201)
    await api.escalate(record(victim))
    _, intruder_token = await api.session()
    agent_token = await api.agent("ana")
    before = await snapshot(client.app[ENGINE])
    cases = [
        ({}, 401, "missing_token"),
        (bearer("not-a-real-token"), 401, "invalid_token"),
        ({"Authorization": f"Basic {victim_token}"}, 401, "invalid_token"),
        (bearer(agent_token), 401, "invalid_token"),
        (SERVICE, 401, "invalid_token"),
        (bearer(intruder_token), 403, "not_your_conversation"),
    ]
    for conversation_id in (victim, "c-nobody-has-this-one"):
        target = route.path.format(conversation_id=conversation_id)
        for headers, status, code in cases:
            response = await client.request(route.method, target, headers=headers)
            assert SECRET not in await refused(response, status, code)
    assert await snapshot(client.app[ENGINE]) == before


async def test_the_owner_sees_what_others_are_refused(api: Api) -> None:
    conversation_id, token = await api.session()
    path = f"/conversations/{conversation_id}"
    await api.call("POST", path + "/messages", token, {"text": SECRET}, 201)
    mine = await api.call("GET", path, token, status=200)
    assert mine["messages"][0]["text"] == SECRET  # then the bot's answer, if any


# --- the service route -------------------------------------------------------------


async def test_only_the_service_token_may_queue_a_handoff(api: Api, client: TestClient) -> None:
    _, customer_token = await api.session()
    before = await snapshot(client.app[ENGINE])
    cases = [
        ({}, "missing_token"),
        (bearer("test-service-token-but-wrong"), "invalid_token"),
        (bearer(customer_token), "invalid_token"),
        ({"Authorization": "Basic test-service-token"}, "invalid_token"),
    ]
    for headers, code in cases:
        response = await client.post("/handoffs", json=record(), headers=headers)
        await refused(response, 401, code)
    assert await snapshot(client.app[ENGINE]) == before
    await api.escalate()


async def test_a_service_without_its_token_set_lets_nobody_queue(settings: Settings) -> None:
    client = await start(replace(settings, service_token=""))
    try:
        for headers in ({}, SERVICE, {"Authorization": "Bearer "}):
            response = await client.post("/handoffs", json=record(), headers=headers)
            await refused(response, 401, "service_token_unset")
    finally:
        await client.close()


# --- logging in --------------------------------------------------------------------


async def test_a_wrong_password_and_an_unknown_name_look_the_same(client: TestClient) -> None:
    await client.app[ACCOUNTS].add_agent("ana", "correct horse battery staple")
    wrong = await client.post("/agent/login", json={"name": "ana", "password": "guess"})
    unknown = await client.post("/agent/login", json={"name": "nobody", "password": "guess"})
    wrong_text = await refused(wrong, 401, "bad_credentials")
    assert json.loads(wrong_text) == json.loads(await refused(unknown, 401, "bad_credentials"))


async def test_passwords_are_stored_as_argon2id_hashes_and_tokens_as_digests(
    client: TestClient,
) -> None:
    password = "correct horse battery staple"  # noqa: S105 - a test credential; guards nothing real
    await client.app[ACCOUNTS].add_agent("ana", password)
    response = await client.post("/agent/login", json={"name": "ana", "password": password})
    assert response.status == 200
    token = (await response.json())["token"]
    async with client.app[ENGINE].connect() as connection:
        [stored] = (await connection.execute(select(agents.c.password_hash))).scalars()
        [token_hash] = (await connection.execute(select(agent_tokens.c.token_hash))).scalars()
    assert stored.startswith("$argon2id$") and password not in stored
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()


# --- limits ------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_hashing")
async def test_the_fourth_login_in_a_minute_is_refused_even_with_the_right_password(
    strict: TestClient,
) -> None:
    await strict.app[ACCOUNTS].add_agent("ana", "right")
    for _ in range(3):
        guess = await strict.post("/agent/login", json={"name": "ana", "password": "wrong"})
        await refused(guess, 401, "bad_credentials")
    right = await strict.post("/agent/login", json={"name": "ana", "password": "right"})
    await refused(right, 429, "too_many_requests")


async def test_the_fourth_session_in_a_minute_is_refused(strict: TestClient) -> None:
    for _ in range(3):
        assert (await strict.post("/sessions", json={})).status == 201
    await refused(await strict.post("/sessions", json={}), 429, "too_many_requests")


async def test_the_fourth_message_in_a_minute_is_refused_in_that_conversation_only(
    strict: TestClient,
) -> None:
    api = Api(strict)
    chatty, chatty_token = await api.session()
    quiet, quiet_token = await api.session()
    for n in range(3):
        body = {"text": f"message {n}"}
        await api.call("POST", f"/conversations/{chatty}/messages", chatty_token, body, 201)
    response = await strict.post(
        f"/conversations/{chatty}/messages", json={"text": "one more"}, headers=bearer(chatty_token)
    )
    await refused(response, 429, "too_many_requests")
    await api.call("POST", f"/conversations/{quiet}/messages", quiet_token, {"text": "hi"}, 201)


async def test_an_oversized_body_is_refused_with_413_before_it_is_read(
    strict: TestClient,
) -> None:
    api = Api(strict)
    await api.escalate()  # an ordinary escalation fits
    big = record(summary="x" * 4000)
    response = await strict.post("/handoffs", json=big, headers=SERVICE)
    await refused(response, 413, "payload_too_large")
    conversation_id, token = await api.session()
    response = await strict.post(
        f"/conversations/{conversation_id}/messages",
        json={"text": "y" * 3000},
        headers=bearer(token),
    )
    await refused(response, 413, "payload_too_large")
