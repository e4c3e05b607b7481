"""Helpers over the whole running system (the ``stack`` fixture): requests to the handoff
service, agents added with the command-line tool, and a socket's unread events."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text

from tools.serve import ROOT, Stack

Socket = aiohttp.ClientWebSocketResponse


def call(stack: Stack, method: str, path: str, token: str = "", body: Any = None) -> Any:
    """One request to the handoff service: ``(status, json)``."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(stack.handoff_url + path, data, headers, method=method)  # noqa: S310 - an http URL on loopback, built here
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - an http URL on loopback, built here
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


PASSWORD = "correct horse battery"  # noqa: S105 - a test credential; guards nothing real


def add_agent(stack: Stack, name: str, role: str = "agent") -> None:
    """An agent (or ``role``) added with the command-line tool (password ``PASSWORD``,
    two chats at once)."""
    env = dict(
        os.environ,
        HANDOFF_DATABASE_URL=f"sqlite+aiosqlite:///{stack.var_dir / 'handoff.db'}",
        HANDOFF_AGENT_PASSWORD=PASSWORD,
    )
    subprocess.run(  # noqa: S603 - fixed argv built here, no shell
        [sys.executable, "-m", "handoff", "add-agent", name, "--capacity", "2", "--role", role],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def signed_in_agent(stack: Stack, name: str) -> str:
    """An agent added with the command-line tool, logged in and available: their token."""
    add_agent(stack, name)
    status, login = call(stack, "POST", "/agent/login", body={"name": name, "password": PASSWORD})
    assert status == 200, login
    call(stack, "PUT", "/agent/me/availability", login["token"], {"available": True})
    return str(login["token"])


def everyone_away(stack: Stack) -> None:
    """Every agent marked away, as at night: other tests share this running system and
    may leave an agent signed in and available."""
    engine = create_engine(f"sqlite:///{stack.var_dir / 'handoff.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE agents SET available = 0"))
    engine.dispose()


class Side:
    """One socket, and the events it received that no one has asked for yet."""

    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        self.unread: list[dict[str, Any]] = []

    async def wait_for(self, kind: str, timeout: float = 60, **match: Any) -> dict[str, Any]:
        """The first unread event of this type whose fields include ``match``."""
        while True:
            for event in self.unread:
                if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    self.unread.remove(event)
                    return event
            self.unread.append(await asyncio.wait_for(self.socket.receive_json(), timeout))

    async def reply_to(self, text: str, client_id: str) -> list[dict[str, Any]]:
        """Send a customer message; the bot's messages until it goes quiet for a moment."""
        await self.socket.send_json({"type": "message", "text": text, "client_id": client_id})
        await self.wait_for("message", client_id=client_id)
        replies = [await self.wait_for("message", speaker="bot")]
        while True:
            try:
                replies.append(await self.wait_for("message", timeout=1.5, speaker="bot"))
            except asyncio.TimeoutError:
                return replies
