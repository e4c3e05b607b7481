"""A customer's chat widget without the browser: what ``handoff/static/widget.js`` does on
the wire (docs/PROTOCOL.md), for tests that need several customers and broken sockets.

``POST /sessions`` once; then ``/ws/customer`` with ``hello`` (the token and the last
``seq`` shown); each message keeps its ``client_id`` until its ``ack`` and is sent again
with it after every reconnect; a dropped socket is reopened with backoff. What arrived is
kept for the test to check: every message by ``seq``, and anything the protocol rules
out (a ``seq`` twice, a gap, an ``ack`` that moved, a refused frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp

# The widget waits 0.5 s doubling up to 30 s; a test keeps the ceiling low.
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.2, 2.0


class WidgetClient:
    """One customer's widget, talking to the handoff service at ``base_url``."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http, self.base_url = http, base_url
        self.conversation_id, self.token = "", ""
        self.messages: dict[int, dict[str, Any]] = {}  # every message shown, by seq
        self.events: list[dict[str, Any]] = []  # every other event, in order
        self.pending: dict[str, str] = {}  # client_id -> text, until acknowledged
        self.acked: dict[str, int] = {}  # client_id -> seq of the stored copy
        self.problems: list[str] = []  # what the protocol says cannot happen
        self.connections = 0
        self._ready: aiohttp.ClientWebSocketResponse | None = None
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        return max(self.messages, default=0)

    async def open(self) -> None:
        """Start a session and keep a socket open until :meth:`close`."""
        async with self.http.post(self.base_url + "/sessions", json={}) as response:
            assert response.status == 201, await response.text()
            session = await response.json()
        self.conversation_id, self.token = session["conversation_id"], session["token"]
        self._task = asyncio.create_task(self._run(), name=f"widget {self.conversation_id}")
        await self.wait(lambda: self._ready is not None, 30)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def send(self, text: str) -> str:
        """Send a message (now, or when the socket is back): its client id."""
        client_id = uuid.uuid4().hex
        self.pending[client_id] = text
        await self._send(client_id, text)
        return client_id

    async def wait(self, condition: Callable[[], bool], timeout: float) -> None:
        """Until ``condition()`` holds, checked whenever something arrives."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    def reply_to(self, client_id: str) -> dict[str, Any] | None:
        """The first message after the stored copy of ``client_id`` not from the customer."""
        seq = self.acked.get(client_id)
        if seq is None:
            return None
        later = (m for s, m in sorted(self.messages.items()) if s > seq)
        return next((m for m in later if m["speaker"] != "customer"), None)

    async def answer(self, client_id: str, timeout: float) -> dict[str, Any]:
        """Wait for the first answer to the message ``client_id`` (bot, agent or system)."""
        await self.wait(lambda: self.reply_to(client_id) is not None, timeout)
        answer = self.reply_to(client_id)
        assert answer is not None
        return answer

    async def ask(self, text: str, timeout: float) -> dict[str, Any]:
        """Send ``text`` and wait for the first answer to it."""
        return await self.answer(await self.send(text), timeout)

    async def _send(self, client_id: str, text: str) -> None:
        socket = self._ready
        if socket is None:
            return  # sent on the next welcome
        with contextlib.suppress(ConnectionError, RuntimeError):  # closing: resent later
            await socket.send_json({"type": "message", "text": text, "client_id": client_id})

    async def _run(self) -> None:
        """Connect, read until the socket drops, and again, with backoff between tries."""
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                async with self.http.ws_connect(self.base_url + "/ws/customer") as socket:
                    backoff = FIRST_BACKOFF_S
                    await socket.send_json(
                        {"type": "hello", "token": self.token, "last_seq": self.last_seq}
                    )
                    await self._read(socket)
            except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError):
                pass  # the service is down or went away: try again
            finally:
                self._ready = None
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(frame.data)
            async with self._changed:
                self._take(event)
                if event["type"] == "welcome":
                    self.connections += 1
                    self._ready = socket
                self._changed.notify_all()
            if event["type"] == "welcome":
                for client_id, text in list(self.pending.items()):
                    await self._send(client_id, text)

    def _take(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "message":
            seq = event["seq"]
            if seq in self.messages:
                self.problems.append(f"seq {seq} delivered twice")
            elif seq != self.last_seq + 1:
                self.problems.append(f"seq {seq} after {self.last_seq}: a gap")
            self.messages[seq] = event
        elif kind == "ack":
            client_id, seq = event["client_id"], event["seq"]
            if self.acked.get(client_id, seq) != seq:
                self.problems.append(f"{client_id} acknowledged as {self.acked[client_id]}, {seq}")
            self.acked[client_id] = seq
            self.pending.pop(client_id, None)
        else:
            if kind == "error":
                self.problems.append(f"refused: {event}")
            self.events.append(event)
