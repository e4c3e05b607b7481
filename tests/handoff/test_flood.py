"""2,000 sockets from one address against the real ``python -m handoff`` process: the
address gets its cap and 429s for the rest, /healthz stays green all along, and a customer
from another address still connects and chats.

The accepted sockets say hello and then sit idle: a socket that never says hello is
closed after ten seconds anyway (``test_doors.py``), so these are the ones that would
hold their places longest (until ``HANDOFF_WS_IDLE_S``, half an hour).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers.doors import Upgrade, enough_open_files, upgrade
from tests.helpers.process import Service, post

CAP = 100
FLOOD = 2000
IN_FLIGHT = 64  # handshakes at once: more only overflows the listen backlog
ELSEWHERE = "127.0.0.2"  # all of 127.0.0.0/8 is loopback on Linux


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    enough_open_files(FLOOD + 1024)  # before the start: the service inherits the limit
    running = Service(tmp_path)
    running.env["HANDOFF_SOCKETS_PER_ADDRESS"] = str(CAP)
    running.start()
    yield running
    running.kill()


class Health:
    """``GET /healthz`` every 50 ms until stopped, from a thread of its own (so the flood's
    client work in this event loop does not delay it): each status, and the slowest."""

    TIMEOUT_S = 5  # an answer later than this is red, as a load balancer's check counts it

    def __init__(self, url: str) -> None:
        self.url, self.statuses, self.slowest = url + "/healthz", Counter[int](), 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            began = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=self.TIMEOUT_S) as response:  # noqa: S310 - an http URL on loopback, built here
                    self.statuses[response.status] += 1
            except urllib.error.HTTPError as error:
                self.statuses[error.code] += 1
            except OSError:
                self.statuses[0] += 1  # no answer in time, or none at all
            self.slowest = max(self.slowest, time.monotonic() - began)

    def __enter__(self) -> Health:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())


async def flood(service: Service, token: str) -> list[Upgrade]:
    """``FLOOD`` upgrade requests from 127.0.0.1; the accepted ones say hello and stay."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    hello = json.dumps({"type": "hello", "token": token})

    async def one() -> Upgrade:
        async with gate:
            answer = await upgrade("127.0.0.1", service.port, "/ws/customer")
            if answer.status == 101:
                await answer.send_text(hello)
            return answer

    return list(await asyncio.gather(*(one() for _ in range(FLOOD))))


async def chat_from_elsewhere(service: Service) -> None:
    """A customer from another address: a session, a socket, a message stored and echoed."""
    connector = aiohttp.TCPConnector(local_addr=(ELSEWHERE, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        session = await post(http, service.url + "/sessions", {})
        socket = await http.ws_connect(service.url.replace("http", "ws") + "/ws/customer")
        await socket.send_json({"type": "hello", "token": session["token"]})
        assert (await socket.receive_json(timeout=5))["type"] == "welcome"
        await socket.send_json({"type": "message", "text": "still there?", "client_id": "x1"})
        seen = [await socket.receive_json(timeout=5) for _ in range(2)]
        assert {e["type"] for e in seen} == {"ack", "message"}, seen
        assert next(e for e in seen if e["type"] == "message")["text"] == "still there?"
        await socket.close()


@pytest.fixture
def health(service: Service) -> Iterator[Health]:
    with Health(service.url) as watching:
        yield watching


async def test_two_thousand_sockets_from_one_address(service: Service, health: Health) -> None:
    async with aiohttp.ClientSession() as http:
        token = (await post(http, service.url + "/sessions", {}))["token"]
    answers = await flood(service, token)
    held = [a for a in answers if a.status == 101]
    refused = [a for a in answers if a.status != 101]
    try:
        assert Counter(a.status for a in answers) == {101: CAP, 429: FLOOD - CAP}
        assert {a.error()["code"] for a in refused} == {"too_many_sockets"}
        await chat_from_elsewhere(service)
        again = await upgrade("127.0.0.1", service.port, "/ws/customer")
        assert again.status == 429  # the flood still holds every place
        before = health.answered
        while health.answered < before + 2:  # and /healthz answers while it does
            await asyncio.sleep(0.05)
    finally:
        for answer in held:
            answer.abort()
    assert set(health.statuses) == {200}, f"{health.statuses}, slowest {health.slowest:.2f} s"
    assert "Traceback" not in service.log.read_text()
