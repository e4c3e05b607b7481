"""The handoff service under test: a throwaway PostgreSQL schema, the app on a test
client, escalation records, and small helpers over the API and the store's clock."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from handoff.app import create_app
from handoff.auth import ref_signature
from handoff.settings import Settings
from handoff.state import ACCOUNTS, SETTINGS, STORE

POSTGRES = os.environ.get(
    "HANDOFF_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SERVICE_TOKEN = "test-service-token"  # noqa: S105 - a test credential; guards nothing real
# What the embedding site signs customer_ref with, in the service tests.
IDENTITY_SECRET = "test-identity-secret"  # noqa: S105 - a test credential; guards nothing real


async def postgres_connection() -> asyncpg.Connection:
    """A connection to the test database; skipped with the reason where the server is
    missing, failed in CI."""
    dsn = POSTGRES.replace("+asyncpg", "")
    try:
        return await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        reason = f"PostgreSQL at {dsn} is not available: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


async def postgres_schema() -> AsyncIterator[str]:
    """A new, empty schema, dropped afterwards."""
    connection = await postgres_connection()
    schema = "t_" + uuid.uuid4().hex[:12]
    await connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        await connection.execute(f"DROP SCHEMA {schema} CASCADE")
        await connection.close()


async def start(settings: Settings) -> TestClient:
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


def record(
    conversation_id: str | None = None, trigger: str = "explicit_request", **extra: Any
) -> dict[str, Any]:
    """An escalation record as the action server sends it."""
    conversation_id = conversation_id or "rasa-" + uuid.uuid4().hex[:10]
    return {
        "idempotency_key": uuid.uuid4().hex,
        "conversation_id": conversation_id,
        "reason": {"trigger": trigger, "value": -0.9, "threshold": -0.75, "turn": 2},
        "summary": "The customer wanted help with where an order is.",
        "score_trail": [
            {
                "turn": 1,
                "text": "where is LS-117342",
                "intent": "check_order_status",
                "confidence": 0.93,
                "sentiment": -0.1,
                "missed": False,
                "level": "neutral",
            },
            {
                "turn": 2,
                "text": "this is useless",
                "intent": "request_human",
                "confidence": 0.88,
                "sentiment": -0.8,
                "missed": False,
                "level": "angry",
            },
        ],
        "transcript": [
            {
                "speaker": "customer",
                "text": "where is LS-117342",
                "time": "2026-11-23T10:00:00+00:00",
            },
            {"speaker": "bot", "text": "It shipped with UPS.", "time": "2026-11-23T10:00:01+00:00"},
            {"speaker": "customer", "text": "this is useless", "time": "2026-11-23T10:00:09+00:00"},
        ],
        **extra,
    }


SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """Small helpers over the test client, for the steps most tests share."""

    client: TestClient

    async def escalate(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post("/handoffs", json=body or record(), headers=SERVICE)
        assert response.status in (200, 201), await response.text()
        return dict(await response.json())

    async def agent(
        self, name: str, capacity: int = 3, available: bool = True, role: str = "agent"
    ) -> str:
        """A new agent (or editor, or lead), logged in (and available unless told
        otherwise, or an editor): their token."""
        accounts = self.client.app[ACCOUNTS]
        await accounts.add_agent(name, f"{name}-password", capacity, role)
        response = await self.client.post(
            "/agent/login", json={"name": name, "password": f"{name}-password"}
        )
        assert response.status == 200, await response.text()
        token = str((await response.json())["token"])
        if available and role != "editor":
            await self.call("PUT", "/agent/me/availability", token, {"available": True})
        return token

    async def call(
        self, method: str, path: str, token: str, body: Any = None, status: int | None = None
    ) -> Any:
        response = await self.client.request(method, path, json=body, headers=bearer(token))
        payload = await response.json()
        if status is not None:
            assert response.status == status, payload
        return payload

    async def session(self, customer_ref: str | None = None) -> tuple[str, str]:
        """A new conversation; ``customer_ref`` signed as the embedding site would."""
        body = {}
        if customer_ref:
            signature = ref_signature(self.client.app[SETTINGS].identity_secret, customer_ref)
            body = {"customer_ref": customer_ref, "customer_ref_signature": signature}
        response = await self.client.post("/sessions", json=body)
        payload = await response.json()
        return payload["conversation_id"], payload["token"]


START = dt.datetime(2026, 11, 23, 12, 0)


@dataclass
class Clock:
    """The store's clock, moved by hand."""

    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def later(self, since: dt.datetime, minutes: float) -> None:
        self.now = since + dt.timedelta(minutes=minutes)


def controlled(client: TestClient) -> Clock:
    """Give the app's store a hand-moved clock, starting at ``START``."""
    clock = Clock()
    client.app[STORE].clock = clock
    return clock
