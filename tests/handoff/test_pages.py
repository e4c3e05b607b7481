"""The widget's files as served, and the CORS that lets another store's page embed it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from handoff.pages import STATIC
from handoff.settings import Settings
from tests.helpers.service import start

STORE = "https://shop.example"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
        rasa_url="http://127.0.0.1:9",
        allowed_origins=f"{STORE}, https://other.example",
    )
    running = await start(settings)
    yield running
    await running.close()


async def test_the_demo_page_and_the_widget_are_served(client: TestClient) -> None:
    page = await client.get("/demo")
    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script src="/widget.js"' in await page.text()
    for path, kind in (("/widget.js", "javascript"), ("/static/widget.css", "text/css")):
        response = await client.get(path)
        assert response.status == 200 and kind in response.headers["Content-Type"], path


class Inline(HTMLParser):
    """What a strict CSP would block: inline scripts, style elements and attributes, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if (tag == "script" and "src" not in names) or tag == "style":
            self.found.append(f"<{tag}>")
        self.found += [f"{tag} {n}" for n in names if n == "style" or n.startswith("on")]


def test_the_demo_page_needs_nothing_the_csp_forbids() -> None:
    parser = Inline()
    parser.feed((STATIC / "demo.html").read_text())
    assert parser.found == []


def test_the_widget_never_writes_html() -> None:
    """Message text reaches the page only as text: no innerHTML and friends anywhere."""
    source = (STATIC / "widget.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", source)


async def test_an_allowed_store_may_start_a_session_and_talk(client: TestClient) -> None:
    preflight = await client.options(
        "/sessions",
        headers={
            "Origin": STORE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == STORE
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]

    started = await client.post("/sessions", json={}, headers={"Origin": STORE})
    assert started.status == 201
    assert started.headers["Access-Control-Allow-Origin"] == STORE
    assert started.headers["Vary"] == "Origin"
    session = await started.json()
    refused = await client.post(
        f"/conversations/{session['conversation_id']}/csat",
        json={"rating": 9},
        headers={"Origin": STORE, "Authorization": f"Bearer {session['token']}"},
    )
    assert refused.status == 400  # the store's page can read why, too
    assert refused.headers["Access-Control-Allow-Origin"] == STORE


async def test_other_origins_and_agent_routes_get_no_cors(client: TestClient) -> None:
    stranger = await client.post("/sessions", json={}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    preflight = await client.options(
        "/queue", headers={"Origin": STORE, "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    agents = await client.post("/agent/login", json={"name": "x", "password": "y"})
    assert "Access-Control-Allow-Origin" not in agents.headers
