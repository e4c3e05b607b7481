"""Two Rasa servers behind one handoff service: a Rasa killed mid-conversation, and the
next turn answered by the other with the conversation's context intact.

Two Rasa servers are started for the test, their trackers in a fresh PostgreSQL database
and their locks in Redis (the machine's servers), the stack's action server behind both;
a handoff service in this process routes to both (``HANDOFF_RASA_URL`` with two servers,
``handoff.clients.rasa``). The customer asks about an order on the conversation's own
Rasa, which is then SIGKILLed; the proof they send next must reach the other one, which
reads the order number from the shared tracker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from handoff.clients.rasa import ranked
from handoff.settings import Settings
from tests.helpers.service import (
    IDENTITY_SECRET,
    POSTGRES,
    SERVICE_TOKEN,
    postgres_connection,
    start,
)
from tests.helpers.widget_client import WidgetClient
from tests.helpers.widget_page import BOT_MS
from tools.net import free_port
from tools.serve import Part, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ASK_PROOF = "what's the email address or billing postcode on it?"
REDIS = os.environ.get("HANDOFF_TEST_REDIS", "redis://127.0.0.1:6379/15")


def said(widget: WidgetClient, text: str) -> bool:
    return any(m["speaker"] == "bot" and text in m["text"] for m in widget.messages.values())


async def fresh_database() -> AsyncIterator[str]:
    """A new PostgreSQL database for Rasa's trackers, dropped afterwards."""
    admin = await postgres_connection()
    name = "t_tracker_" + uuid.uuid4().hex[:10]
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield POSTGRES.replace("+asyncpg", "").rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture
async def rasa_pair(stack: Stack) -> AsyncIterator[list[tuple[Part, str]]]:
    """Two Rasa servers on one PostgreSQL tracker store and one Redis lock store, the
    stack's action server behind both: the production shape."""
    async for tracker_url in fresh_database():
        shared = replace(stack, tracker_url=tracker_url, lock_url=REDIS, parts={})
        pair = []
        for port in (free_port(), free_port()):
            part = shared.rasa_part(port)
            part.spawn()
            pair.append((part, f"http://{stack.internal_host}:{port}"))
        try:
            for part, _ in pair:
                await asyncio.to_thread(part.wait_ready)
            yield pair
        finally:
            for part, _ in pair:
                part.stop()
            for part, _ in pair:
                await asyncio.to_thread(part.reap)


async def test_a_killed_rasa_hands_the_next_turn_to_the_other_with_its_context(
    stack: Stack, rasa_pair: list[tuple[Part, str]], tmp_path: Path
) -> None:
    urls = [url for _, url in rasa_pair]
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
        service_token=SERVICE_TOKEN,
        identity_secret=IDENTITY_SECRET,
        rasa_url=",".join(urls),
        rasa_token=stack.keys.rasa_token,
        pii_key=stack.keys.pii_key,
        content_dir=str(tmp_path / "content"),
        studio_dir=str(tmp_path / "studio"),
    )
    service = await start(settings)
    base = f"http://{service.host}:{service.port}"
    try:
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(http, base)
            await widget.open()
            own = ranked(settings, widget.conversation_id)[0]  # the conversation's Rasa
            doomed = next(part for part, url in rasa_pair if url == own)
            await widget.send("where is my order LS-117342?")
            await widget.wait(lambda: said(widget, ASK_PROOF), BOT_MS / 1000)
            assert doomed.process is not None
            os.killpg(doomed.process.pid, signal.SIGKILL)
            await asyncio.to_thread(doomed.process.wait)
            await widget.send("the zip is 80302")
            # Answered, by the Rasa left, with the order number the customer gave before.
            await widget.wait(lambda: said(widget, "Order LS-117342 ("), BOT_MS / 1000)
            assert widget.problems == []
            await widget.close()
    finally:
        await service.close()
