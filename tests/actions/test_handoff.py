"""The handoff action: an escalation posts its own record once and returns; stuck records
are the relay's to retry, never the escalation's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions import outbox
from actions.handoff import ActionHandoff

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port
OTHER_KEY = "left-behind-by-an-outage"


@pytest.fixture
def outbox_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh outbox with one record an earlier outage left behind (never attempted)."""
    path = tmp_path / "outbox.db"
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", "test-token")
    outbox.get_outbox.cache_clear()
    earlier = outbox.Outbox(f"sqlite:///{path}")  # not get_outbox: settings not read yet
    earlier.add(OTHER_KEY, {"conversation_id": "someone-else"})
    earlier.engine.dispose()
    yield path
    outbox.get_outbox.cache_clear()


def rows(path: Path) -> dict[str, tuple[int, str | None, Any]]:
    """Each outbox row's attempts, last error and delivery time, by key."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        result = connection.execute(
            text("SELECT key, attempts, last_error, delivered_at FROM escalation_outbox")
        ).all()
    engine.dispose()
    return {r[0]: (r[1], r[2], r[3]) for r in result}


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    return [m.get("response") for m in dispatcher.messages]


async def test_service_unreachable_posts_once_and_leaves_other_records_to_the_relay(
    outbox_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    domain: dict[str, Any],
) -> None:
    monkeypatch.setenv("HANDOFF_URL", UNREACHABLE)
    events = await ActionHandoff().run(dispatcher, make_tracker(), domain)

    assert ConversationPaused() in events
    assert responses(dispatcher) == ["utter_handoff_queued"]
    by_key = rows(outbox_db)
    [own] = [key for key in by_key if key != OTHER_KEY]
    attempts, error, delivered_at = by_key[own]
    assert (attempts, delivered_at) == (1, None)  # posted once, waits for the relay
    assert error and "Connect" in error
    assert by_key[OTHER_KEY] == (0, None, None)  # not tried by the escalation


@pytest.fixture
async def handoff_service() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in handoff service that queues every post as number 2, 5 minutes' wait."""
    posts: list[dict[str, Any]] = []

    async def create(request: web.Request) -> web.Response:
        posts.append({"headers": dict(request.headers), "body": await request.json()})
        return web.json_response({"created": True, "position": 2, "estimated_wait_s": 300})

    app = web.Application()
    app.router.add_post("/handoffs", create)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")), posts
    finally:
        await server.close()


async def test_service_up_tells_the_place_in_line_and_posts_only_this_record(
    outbox_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    handoff_service: tuple[str, list[dict[str, Any]]],
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    domain: dict[str, Any],
) -> None:
    url, posts = handoff_service
    monkeypatch.setenv("HANDOFF_URL", url)
    await ActionHandoff().run(dispatcher, make_tracker(), domain)

    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_connecting"
    assert message["wait"] == "You're number 2 in line; the wait is about 5 minutes."
    [post] = posts
    assert post["body"]["conversation_id"] == "customer-1"
    assert post["headers"]["Authorization"] == "Bearer test-token"
    by_key = rows(outbox_db)
    own = post["headers"]["Idempotency-Key"]
    assert by_key[own][:2] == (1, None) and by_key[own][2] is not None
    assert by_key[OTHER_KEY] == (0, None, None)
