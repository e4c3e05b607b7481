"""Two Rasa servers behind one handoff service: a Rasa killed mid-conversation, and the
next turn answered by the other with the conversation's context intact.

A second Rasa on the stack's tracker store and action server is started for the test; a
handoff service in this process routes to both (``HANDOFF_RASA_URL`` with two servers,
``handoff.clients.rasa``). The customer asks about an order on the conversation's own
Rasa, which is then SIGKILLed; the proof they send next must reach the other one, which
reads the order number from the shared tracker.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from handoff.clients.rasa import ranked
from handoff.settings import Settings
from tests.helpers.service import IDENTITY_SECRET, SERVICE_TOKEN, start
from tests.helpers.widget_client import WidgetClient
from tests.helpers.widget_page import BOT_MS
from tools.net import free_port
from tools.serve import Part, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ASK_PROOF = "what's the email address or billing postcode on it?"


def said(widget: WidgetClient, text: str) -> bool:
    return any(m["speaker"] == "bot" and text in m["text"] for m in widget.messages.values())


@pytest.fixture
async def second_rasa(stack: Stack) -> AsyncIterator[tuple[Part, str]]:
    port = free_port()
    part = stack.rasa_part(port)
    part.spawn()
    try:
        await asyncio.to_thread(part.wait_ready)
        yield part, f"http://{stack.internal_host}:{port}"
    finally:
        part.stop()
        await asyncio.to_thread(part.reap)


async def test_a_killed_rasa_hands_the_next_turn_to_the_other_with_its_context(
    stack: Stack, second_rasa: tuple[Part, str], tmp_path: Path
) -> None:
    doomed, doomed_url = second_rasa
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
        service_token=SERVICE_TOKEN,
        identity_secret=IDENTITY_SECRET,
        rasa_url=f"{stack.rasa_url},{doomed_url}",
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
            for _ in range(40):  # a conversation whose own Rasa is the one to be killed
                if ranked(settings, widget.conversation_id)[0] == doomed_url:
                    break
                await widget.close()
                widget = WidgetClient(http, base)
                await widget.open()
            assert ranked(settings, widget.conversation_id)[0] == doomed_url
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
