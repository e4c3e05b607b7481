"""A message the bot was still answering when the handoff service was killed gets its
answer after the restart: the service asks the real Rasa again at start-up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers.process import Service, post
from tests.helpers.stack import Side
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a bot that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def open_widget(
    http: aiohttp.ClientSession, service: Service, hello: dict[str, object]
) -> Side:
    ws = await http.ws_connect(service.url.replace("http", "ws") + "/ws/customer")
    await ws.send_json({"type": "hello", **hello})
    side = Side(ws)
    await side.wait_for("welcome", timeout=10)
    return side


async def test_a_question_cut_off_by_a_restart_is_answered_after_it(
    stack: Stack, http: aiohttp.ClientSession, tmp_path: Path, silent_port: int
) -> None:
    service = Service(tmp_path)
    service.env["HANDOFF_RASA_TOKEN"] = stack.keys.rasa_token
    service.env["HANDOFF_RASA_URL"] = f"http://127.0.0.1:{silent_port}"
    service.start()
    try:
        session = await post(http, service.url + "/sessions", {})
        widget = await open_widget(http, service, {"token": session["token"]})
        await widget.socket.send_json(
            {"type": "message", "text": "how much is shipping?", "client_id": "q1"}
        )
        asked = (await widget.wait_for("ack", timeout=10))["seq"]
        await widget.wait_for("typing", timeout=10)  # the bot has been asked, and hangs

        service.kill()
        await widget.socket.close()
        service.env["HANDOFF_RASA_URL"] = stack.rasa_url
        service.start()

        widget = await open_widget(http, service, {"token": session["token"], "last_seq": asked})
        answer = await widget.wait_for("message", timeout=60, speaker="bot")
        assert answer["seq"] > asked and "$6.95" in answer["text"]
        with pytest.raises(asyncio.TimeoutError):  # asked once: no second answer follows
            await widget.wait_for("message", timeout=2, speaker="bot")
        await widget.socket.close()
    finally:
        if service.process is not None and service.process.poll() is None:
            service.process.terminate()
            service.process.wait(timeout=10)
