"""Which Rasa server a conversation goes to (rendezvous hashing), and the next one when
it cannot be reached. The whole path with real Rasa servers, one killed mid-conversation,
is tests/e2e/test_rasa_failover.py."""

from __future__ import annotations

import socket
from collections import Counter

import aiohttp
import pytest

from handoff.clients import rasa
from handoff.settings import Settings

THREE = "http://127.0.0.1:5005, http://127.0.0.1:5006,http://127.0.0.1:5007/"
IDS = [f"conversation-{n}" for n in range(3000)]


def test_each_conversation_has_one_server_and_they_share_the_load() -> None:
    settings = Settings(rasa_url=THREE)
    assert rasa.servers(settings) == [
        "http://127.0.0.1:5005",
        "http://127.0.0.1:5006",
        "http://127.0.0.1:5007",
    ]
    first = {c: rasa.ranked(settings, c)[0] for c in IDS}
    assert first == {c: rasa.ranked(settings, c)[0] for c in IDS}  # the same every time
    shares = Counter(first.values())
    assert all(0.28 < n / len(IDS) < 0.39 for n in shares.values()), shares


def test_losing_a_server_moves_only_its_conversations() -> None:
    three = Settings(rasa_url=THREE)
    two = Settings(rasa_url="http://127.0.0.1:5005,http://127.0.0.1:5007")
    moved = [c for c in IDS if rasa.ranked(three, c)[0] != rasa.ranked(two, c)[0]]
    assert moved and all(rasa.ranked(three, c)[0] == "http://127.0.0.1:5006" for c in moved)
    # ... and each goes where its own order said next.
    assert all(rasa.ranked(two, c)[0] == rasa.ranked(three, c)[1] for c in moved)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when this returns


async def test_an_unreachable_server_is_skipped_for_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rasa, "_down", {})
    dead, alive = f"http://127.0.0.1:{closed_port()}", "http://127.0.0.1:1"
    settings = Settings(rasa_url=f"{dead},{alive}")
    conversation = next(c for c in IDS if rasa.ranked(settings, c)[0] == dead)
    tried: list[str] = []

    async def call(server: str) -> str:
        tried.append(server)
        if server == dead:  # a real refused connection
            async with aiohttp.ClientSession() as http:
                await http.get(server)
        return server

    assert await rasa._first_reachable(settings, conversation, call) == alive
    assert tried == [dead, alive]
    tried.clear()  # the dead one is skipped for a while: the next turn goes straight on
    assert await rasa._first_reachable(settings, conversation, call) == alive
    assert tried == [alive]


async def test_when_every_server_is_unreachable_the_error_is_the_last_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rasa, "_down", {})
    settings = Settings(
        rasa_url=f"http://127.0.0.1:{closed_port()},http://127.0.0.1:{closed_port()}"
    )

    async def call(server: str) -> None:
        async with aiohttp.ClientSession() as http:
            await http.get(server)

    with pytest.raises(aiohttp.ClientConnectorError):
        await rasa._first_reachable(settings, "c", call)
