"""The live sockets as a test drives them: open one, say hello, read events by type."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

Socket = aiohttp.ClientWebSocketResponse


async def next_event(socket: Socket, kind: str, timeout: float = 5) -> dict[str, Any]:
    """The next event of this type (others are skipped)."""
    while True:
        event = await asyncio.wait_for(socket.receive_json(), timeout)
        if event["type"] == kind:
            return dict(event)


async def messages_until(socket: Socket, *texts: str) -> list[dict[str, Any]]:
    """Messages until every one of these texts has arrived."""
    seen: list[dict[str, Any]] = []
    while not set(texts) <= {m["text"] for m in seen}:
        seen.append(await next_event(socket, "message"))
    return seen


async def messages(socket: Socket, count: int) -> list[dict[str, Any]]:
    return [await next_event(socket, "message") for _ in range(count)]


async def customer(client: TestClient, token: str, last_seq: int = 0) -> Socket:
    socket = await client.ws_connect("/ws/customer")
    await socket.send_json({"type": "hello", "token": token, "last_seq": last_seq})
    return socket


async def agent(client: TestClient, token: str) -> Socket:
    socket = await client.ws_connect("/ws/agent")
    await socket.send_json({"type": "hello", "token": token})
    return socket
