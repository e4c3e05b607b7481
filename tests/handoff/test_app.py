"""The service shell: settings, health check and the JSON error envelope."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from handoff.app import create_app
from handoff.db.engine import make_engine
from handoff.settings import Settings
from handoff.state import ENGINE


async def client_for(app: web.Application) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def sqlite_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return replace(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}"), **overrides
    )


async def test_healthz_reports_ok_when_the_database_answers(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_healthz_reports_a_database_that_stopped_answering(client: TestClient) -> None:
    client.app[ENGINE] = dead = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    response = await client.get("/healthz")
    await dead.dispose()
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "database_unavailable"


async def test_unknown_route_gets_the_envelope(client: TestClient) -> None:
    response = await client.get("/nope")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_wrong_method_gets_the_envelope(client: TestClient) -> None:
    response = await client.post("/healthz")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_a_crash_is_a_bare_500_that_leaks_nothing(tmp_path: Path) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("SELECT secret FROM agents")

    app = create_app(sqlite_settings(tmp_path))
    app.router.add_get("/boom", boom)
    client = await client_for(app)
    try:
        response = await client.get("/boom")
        text = await response.text()
        assert response.status == 500
        assert (await response.json())["error"]["code"] == "internal"
        assert "SELECT" not in text and "Traceback" not in text
    finally:
        await client.close()


async def test_an_oversized_body_is_refused_with_413(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, max_body_bytes=64)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    app = create_app(settings)
    app.router.add_post("/echo", echo)
    client = await client_for(app)
    try:
        response = await client.post("/echo", json={"text": "x" * 500})
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "payload_too_large"
    finally:
        await client.close()


def test_settings_come_from_prefixed_environment_variables() -> None:
    settings = Settings.from_env({"HANDOFF_PORT": "6001", "HANDOFF_DATABASE_URL": "sqlite://"})
    assert (settings.port, settings.database_url) == (6001, "sqlite://")
    assert Settings.from_env({}) == Settings()


def test_a_bad_number_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="HANDOFF_PORT must be a whole number"):
        Settings.from_env({"HANDOFF_PORT": "eighty"})
