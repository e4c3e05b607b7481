"""WebSocket upgrades by hand over asyncio streams: light enough to open thousands at once
from one test, from any loopback source address, and to drop without a close frame."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import resource
import struct
from dataclasses import dataclass
from typing import Any

import pytest

# The handshake headers a WebSocket client sends (RFC 6455 section 4.1).
UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": base64.b64encode(b"larkspur-doors-1").decode(),
}
CONTENT_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)\r$")


@dataclass
class Upgrade:
    """The answer to one upgrade request: 101 and an open socket, or a refusal's body."""

    status: int
    body: bytes
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def error(self) -> dict[str, Any]:
        """The refusal's envelope, ``{"code", "message"}``."""
        return dict(json.loads(self.body)["error"])

    async def send_text(self, text: str) -> None:
        self.writer.write(text_frame(text))
        await self.writer.drain()

    def abort(self) -> None:
        """Drop the connection without a close frame, as a client that vanished would."""
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def upgrade(host: str, port: int, path: str, source: str = "127.0.0.1") -> Upgrade:
    """Ask ``host:port`` to upgrade ``path`` to a WebSocket, from the address ``source``."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in UPGRADE.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = CONTENT_LENGTH.search(head)
    body = await reader.readexactly(int(length[1])) if status != 101 and length else b""
    if status != 101:
        writer.close()
    return Upgrade(status, body, reader, writer)


def text_frame(text: str) -> bytes:
    """One masked text frame, as a client must send it."""
    payload, mask = text.encode(), os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    else:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def enough_open_files(needed: int) -> None:
    """Raise this process's soft limit on open files to ``needed`` (children inherit it);
    skip when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"{needed} open files needed; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
