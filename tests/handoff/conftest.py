"""A throwaway database per test, on SQLite and on the PostgreSQL server, and the real app.

PostgreSQL tests use a fresh schema in the ``test`` database on 127.0.0.1:5432 (override
with ``HANDOFF_TEST_POSTGRES``). Without a server they are skipped with the reason,
except in CI (``CI=true``), where a missing server fails the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from handoff.settings import Settings
from tests.helpers.service import (
    IDENTITY_SECRET,
    POSTGRES,
    SERVICE_TOKEN,
    Api,
    postgres_schema,
    start,
)


@pytest.fixture(params=["sqlite", "postgres"])
async def settings(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Settings]:
    """Settings for a throwaway database of each kind (and a throwaway studio: labels go
    into ``tmp_path/content``, which a studio test fills with a copy of the content)."""
    base = Settings(
        service_token=SERVICE_TOKEN,
        rasa_url="http://127.0.0.1:9",
        identity_secret=IDENTITY_SECRET,
        content_dir=str(tmp_path / "content"),
        studio_dir=str(tmp_path / "studio"),
    )
    if request.param == "sqlite":
        yield replace(base, database_url=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}")
        return
    async for schema in postgres_schema():
        yield replace(base, database_url=POSTGRES, database_schema=schema)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    running = await start(settings)
    yield running
    await running.close()


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its cheapest (a millisecond, not a quarter second) for tests with many agents."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr("handoff.auth._hasher", cheap)
