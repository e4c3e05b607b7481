"""The two WebSockets: the customer's widget and the agent's console (docs/PROTOCOL.md).

Each socket authenticates with its first frame (``hello`` with a token: browsers cannot
set headers on a WebSocket, and a token in the URL would land in access logs). Messages
reach a socket only through :class:`Outbox`, which sends each one after the last sequence
number it sent (the one a ``sync`` carries when it is the next, else what the database
holds after it): in order, nothing twice, nothing skipped.

Bad input gets a clear answer, never a silent end: a binary frame closes the socket with
1003, an oversize one with 1009, anything but ``hello`` first with 4401, and one client
address holds at most ``sockets_per_address`` sockets (the next upgrade is a 429).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from handoff import live, usecases
from handoff.db import Store
from handoff.errors import ApiError, Forbidden, Handler, TooManyRequests
from handoff.hub import (
    AGENTS,
    LAGGING,
    Event,
    Hub,
    Subscription,
    agent_channel,
    conversation_channel,
)
from handoff.schemas import loads
from handoff.state import ACCOUNTS, HUB, LIMITS, SETTINGS, STORE

logger = logging.getLogger(__name__)
UNAUTHORIZED, TRY_AGAIN, GOING_AWAY, POLICY = 4401, 1013, 1001, 1008
UNSUPPORTED = 1003  # a binary frame; 1009 (too big) is aiohttp's own, from max_msg_size
HELLO_TIMEOUT_S = 10


class Sockets:
    """Open sockets per client address; past ``cap`` the next is refused before it opens."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: Counter[str] = Counter()

    @contextlib.contextmanager
    def hold(self, address: str) -> Iterator[None]:
        """One place for ``address`` while the block runs, however it ends (cancelled too)."""
        if self.open[address] >= self.cap:
            raise TooManyRequests(
                "too_many_sockets",
                f"This address already has {self.cap} open sockets; close one first.",
            )
        self.open[address] += 1
        try:
            yield
        finally:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]


SOCKETS = web.AppKey("sockets", Sockets)


def capped(handler: Handler) -> Handler:
    """The socket handler, holding a place for the client's address while it runs."""

    @functools.wraps(handler)
    async def held(request: web.Request) -> web.StreamResponse:
        with request.app[SOCKETS].hold(request.remote or ""):
            return await handler(request)

    return held


def check_origin(request: web.Request) -> None:
    """Browsers send Origin with every WebSocket; only the configured sites may connect."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser: no cross-site risk
    own = f"{request.scheme}://{request.host}"
    if origin.rstrip("/") != own and not request.app[SETTINGS].embeds(origin):
        raise Forbidden("origin_not_allowed", f"Connections from {origin} are not allowed.")


async def open_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    settings = request.app[SETTINGS]
    socket = web.WebSocketResponse(
        heartbeat=settings.ws_heartbeat_s, max_msg_size=settings.max_body_bytes
    )
    await socket.prepare(request)
    return socket


async def greeted(request: web.Request) -> tuple[web.WebSocketResponse, dict[str, Any] | None]:
    """The upgraded socket and its ``hello`` frame (None: the socket is closed already)."""
    socket = await open_socket(request)
    return socket, await hello(socket)


async def hello(socket: web.WebSocketResponse) -> dict[str, Any] | None:
    """The first frame, if it is a ``hello`` with a token in time; else the socket is closed."""
    try:
        frame = await socket.receive(timeout=HELLO_TIMEOUT_S)
    except asyncio.TimeoutError:
        frame = None
    if frame is not None and not await readable(socket, frame):
        return None
    data = parsed(frame.data) if frame is not None else None
    if (
        not isinstance(data, dict)
        or data.get("type") != "hello"
        or not isinstance(data.get("token"), str)
    ):
        await socket.close(code=UNAUTHORIZED, message=b"send hello with your token first")
        return None
    return data


async def readable(socket: web.WebSocketResponse, frame: WSMessage) -> bool:
    """Whether the frame is text to read. A binary one closes the socket with 1003; after an
    oversize one (``max_msg_size``) aiohttp has closed it with 1009; the rest mean closed."""
    if frame.type == WSMsgType.BINARY:
        await socket.close(code=UNSUPPORTED, message=b"send text frames")
    return frame.type == WSMsgType.TEXT


def parsed(text: str) -> Any:
    """The frame's JSON, or None when it is not JSON (or nests too deep to be a frame)."""
    try:
        return loads(text)
    except ValueError:
        return None


class Outbox:
    """Sends one socket's frames, one at a time; messages strictly in sequence order."""

    def __init__(self, socket: web.WebSocketResponse, store: Store) -> None:
        self.socket, self.store = socket, store
        self.sent: dict[str, int] = {}  # conversation id -> last sequence number sent
        self._lock = asyncio.Lock()

    async def send(self, event: Event) -> None:
        async with self._lock:
            await self.socket.send_json(event)

    async def catch_up(
        self, conversation_id: str, extra: Event | None = None, stored: Event | None = None
    ) -> None:
        """Send every stored message after the last one this socket sent. ``stored`` is the
        message a ``sync`` announced: when it is the next one, it need not be read back."""
        async with self._lock:
            after = self.sent.get(conversation_id, 0)
            if stored is not None and stored["seq"] <= after:
                return  # an earlier catch-up sent it; each later message has its own sync
            if stored is not None and stored["seq"] == after + 1:
                found = [stored]
            else:
                found = await self.store.messages(conversation_id, after)
            for message in found:
                await self.socket.send_json({"type": "message", **(extra or {}), **message})
                self.sent[conversation_id] = message["seq"]


async def pump(
    socket: web.WebSocketResponse,
    inbox: Subscription,
    on_event: Callable[[Event], Awaitable[None]],
    on_frame: Callable[[dict[str, Any]], Awaitable[None]],
    idle_s: float,
) -> None:
    """Events out and frames in, until either side ends; a lagging reader is told to resync."""
    tasks = [
        asyncio.ensure_future(_events(socket, inbox, on_event)),
        asyncio.ensure_future(_frames(socket, on_frame, idle_s)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await task


async def _events(
    socket: web.WebSocketResponse,
    inbox: Subscription,
    on_event: Callable[[Event], Awaitable[None]],
) -> None:
    while True:
        event = await inbox.queue.get()
        if event is LAGGING:
            await socket.close(code=TRY_AGAIN, message=b"too far behind: reconnect")
            return
        await on_event(event)


async def _frames(
    socket: web.WebSocketResponse,
    on_frame: Callable[[dict[str, Any]], Awaitable[None]],
    idle_s: float,
) -> None:
    while True:
        try:
            frame = await socket.receive(timeout=idle_s)
        except asyncio.TimeoutError:
            await socket.close(code=GOING_AWAY, message=b"idle")
            return
        if not await readable(socket, frame):
            return
        data = parsed(frame.data)
        if not isinstance(data, dict):
            await socket.send_json(error("invalid_json", "Send one JSON object per frame."))
            continue
        await on_frame(data)


def error(code: str, message: str, **extra: Any) -> Event:
    return {"type": "error", "code": code, "message": message, **extra}


def no_text(client_id: str | None) -> Event:
    return error(
        "invalid_message", "A message needs text (1-5000 characters).", client_id=client_id
    )


def text_field(data: dict[str, Any]) -> str | None:
    text = data.get("text")
    if isinstance(text, str) and text.strip() and len(text) <= 5000:
        return text
    return None


def client_id_field(data: dict[str, Any]) -> str | None:
    client_id = data.get("client_id")
    return client_id if isinstance(client_id, str) and 0 < len(client_id) <= 64 else None


# --- the customer's widget -----------------------------------------------------------


@capped
async def customer_socket(request: web.Request) -> web.StreamResponse:
    """``GET /ws/customer``: the widget's live channel (see docs/PROTOCOL.md)."""
    app = request.app
    socket, greeting = await greeted(request)
    if greeting is None:
        return socket
    conversation_id = await app[STORE].conversation_for_token(greeting["token"])
    if conversation_id is None:
        await socket.close(code=UNAUTHORIZED, message=b"unknown session token")
        return socket
    outbox = Outbox(socket, app[STORE])
    last_seq = greeting.get("last_seq")
    outbox.sent[conversation_id] = last_seq if isinstance(last_seq, int) and last_seq >= 0 else 0
    with app[HUB].subscribe(conversation_channel(conversation_id)) as inbox:
        await outbox.send(await welcome(app, conversation_id))
        await outbox.catch_up(conversation_id)

        async def on_event(event: Event) -> None:
            if event["type"] == "sync":
                await outbox.catch_up(conversation_id, stored=event.get("message"))
            elif event.get("speaker") != "customer":  # not its own typing
                await outbox.send(event)

        async def on_frame(data: dict[str, Any]) -> None:
            await customer_frame(app, outbox, conversation_id, data)

        await pump(socket, inbox, on_event, on_frame, app[SETTINGS].ws_idle_s)
    return socket


async def welcome(app: web.Application, conversation_id: str) -> Event:
    """Who answers this conversation now, and the customer's place in line if waiting."""
    handoff = await app[STORE].open_handoff(conversation_id)
    if handoff is None:
        return {"type": "welcome", "conversation_id": conversation_id, "owner": "bot"}
    owner = "agent" if handoff.state == "assigned" else "queue"
    estimate = await app[STORE].estimate(handoff.id)
    return {
        "type": "welcome",
        "conversation_id": conversation_id,
        "owner": owner,
        "handoff": {"id": handoff.id, "state": handoff.state, **estimate.as_dict()},
    }


async def customer_frame(
    app: web.Application, outbox: Outbox, conversation_id: str, data: dict[str, Any]
) -> None:
    kind = data.get("type")
    if kind == "typing":
        live.tell(app, conversation_id, {"type": "typing", "speaker": "customer"})
    elif kind == "message":
        text, client_id = text_field(data), client_id_field(data)
        if text is None:
            await outbox.send(no_text(client_id))
        elif not await app[LIMITS].allow("customer_messages", conversation_id):
            await outbox.send(
                error(
                    "too_many_requests", "Slow down a little, then send again.", client_id=client_id
                )
            )
        else:
            stored = await usecases.customer_message(app, conversation_id, text, client_id)
            await outbox.send({"type": "ack", "client_id": client_id, "seq": stored["seq"]})
    else:
        await outbox.send(error("unknown_type", f"Unknown frame type {kind!r:.60}."))


# --- the agent's console -------------------------------------------------------------


@capped
async def agent_socket(request: web.Request) -> web.StreamResponse:
    """``GET /ws/agent``: queue changes and the agent's conversations, live."""
    app = request.app
    socket, greeting = await greeted(request)
    if greeting is None:
        return socket
    try:
        agent = await app[ACCOUNTS].agent_for_token(greeting["token"])
    except ApiError as refusal:
        await socket.close(code=UNAUTHORIZED, message=refusal.code.encode())
        return socket
    outbox = Outbox(socket, app[STORE])
    known = greeting["last_seq"] if isinstance(greeting.get("last_seq"), dict) else {}
    with app[HUB].subscribe(AGENTS, agent_channel(agent.id)) as inbox:
        chats = AgentChats(app[HUB], outbox, inbox)
        chats.resume(await app[STORE].held_by(agent.id), known)
        await outbox.send(
            {"type": "welcome", "agent": agent.name, "queue": await app[STORE].queue()}
        )
        await chats.catch_up()

        async def on_frame(data: dict[str, Any]) -> None:
            await agent_frame(app, outbox, agent.id, chats.handoffs, data)

        try:
            await pump(socket, inbox, chats.on_event, on_frame, app[SETTINGS].ws_idle_s)
        finally:
            chats.leave_all()
    return socket


class AgentChats:
    """The conversations one agent socket follows: joined on a claim, left on a release."""

    def __init__(self, hub: Hub, outbox: Outbox, inbox: Subscription) -> None:
        self.hub, self.outbox, self.inbox = hub, outbox, inbox
        self.handoffs: dict[str, int] = {}  # conversation id -> handoff id

    def resume(self, held: list[tuple[int, str, int]], known: dict[str, Any]) -> None:
        """Follow the chats the agent holds, from the last message this client saw."""
        for handoff_id, conversation_id, latest in held:
            self.follow(conversation_id, handoff_id)
            seen = known.get(conversation_id)
            self.outbox.sent[conversation_id] = seen if isinstance(seen, int) else latest

    async def catch_up(self) -> None:
        for conversation_id in list(self.handoffs):
            await self.outbox.catch_up(conversation_id, self.labels(conversation_id))

    def labels(self, conversation_id: str) -> Event:
        return {"conversation_id": conversation_id, "handoff_id": self.handoffs[conversation_id]}

    def follow(self, conversation_id: str, handoff_id: int) -> None:
        self.hub.join(conversation_channel(conversation_id), self.inbox)
        self.handoffs[conversation_id] = handoff_id

    def leave_all(self) -> None:
        for conversation_id in self.handoffs:
            self.hub.leave(conversation_channel(conversation_id), self.inbox)

    async def on_event(self, event: Event) -> None:
        conversation_id = event.get("conversation_id", "")
        if event["type"] == "claimed":
            self.follow(conversation_id, event["handoff_id"])
            self.outbox.sent.setdefault(conversation_id, event.get("seq", 0))
        elif event["type"] == "released":
            self.hub.leave(conversation_channel(conversation_id), self.inbox)
            self.handoffs.pop(conversation_id, None)
        if event["type"] == "sync":
            if conversation_id in self.handoffs:
                labels = self.labels(conversation_id)
                await self.outbox.catch_up(conversation_id, labels, event.get("message"))
        elif event.get("speaker") != "agent":
            await self.outbox.send(event)


async def agent_frame(
    app: web.Application,
    outbox: Outbox,
    agent_id: int,
    handoffs: dict[str, int],
    data: dict[str, Any],
) -> None:
    kind, handoff_id = data.get("type"), data.get("handoff_id")
    conversation_id = next((c for c, h in handoffs.items() if h == handoff_id), None)
    held = handoffs.get(conversation_id or "")
    if kind not in ("typing", "message"):
        await outbox.send(error("unknown_type", f"Unknown frame type {kind!r:.60}."))
    elif conversation_id is None:
        await outbox.send(error("not_your_conversation", "You do not hold that conversation."))
    elif kind == "typing":
        live.tell(app, conversation_id, {"type": "typing", "speaker": "agent"})
    else:
        text, client_id = text_field(data), client_id_field(data)
        if text is None:
            await outbox.send(no_text(client_id))
            return
        try:
            stored = await app[STORE].agent_message(held or 0, agent_id, text, client_id)
        except ApiError as refusal:
            await outbox.send(error(refusal.code, refusal.message, client_id=client_id))
            return
        await outbox.send(
            {"type": "ack", "client_id": client_id, "seq": stored["seq"], "handoff_id": handoff_id}
        )
