"""Live events across service instances: every instance's hub, joined through Redis or
PostgreSQL, so a customer on one instance and their agent on another hear each other.

``HANDOFF_EVENTS`` says how:

- ``local`` (the default, one instance): the hub is all there is.
- ``redis``: each event is appended to one Redis stream (``XADD``, capped at
  ``STREAM_LENGTH`` entries), and every instance reads the stream from the entry after the
  last one it saw (``XREAD``), so a reader that reconnects gets what it missed while the
  stream still holds it: at least once.
- ``postgres``: each event is a ``NOTIFY`` on one channel of the service's own database,
  and every instance ``LISTEN``s. A payload must stay under 8,000 bytes, so a message
  nudge too large travels without its message (the socket reads it from the database);
  a notification sent while an instance is disconnected is lost to it, which a socket
  survives the same way (its next nudge makes it read from its last sequence number).

Each event carries its instance's id, and an instance skips its own (its hub had it
already). Redelivery is harmless: sockets send messages by the conversation's sequence
number, never twice. Publishing never waits: events queue for a writer task, and if the
engine is away they wait (up to ``BACKLOG``) until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url

from handoff.hub import LAGGING, Event, Hub
from handoff.state import HUB, SETTINGS

logger = logging.getLogger(__name__)
KINDS = ("local", "redis", "postgres")
STREAM_LENGTH = 100_000  # about a minute of the busiest relay bench, many times over
NOTIFY_LIMIT = 7_900  # bytes: PostgreSQL refuses a payload of 8,000 or more
BACKLOG = 10_000  # events kept while the engine is away; older ones are dropped
BATCH = 500
RETRY_S = 1.0
CLOSE_S = 2.0
READ_MS = 500  # a blocking read's longest wait: how soon a stopping instance stops
READY_S = 10.0


def instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def encode(instance: str, channel: str, event: Event) -> str:
    return json.dumps({"from": instance, "channel": channel, "event": event}, default=str)


def decode(raw: str | bytes) -> tuple[str, str, Event]:
    data = json.loads(raw)
    return str(data["from"]), str(data["channel"]), dict(data["event"])


class Shared:
    """What every engine does: take the hub's events, send them on, deliver the others'."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name  # the stream or channel
        self.instance = instance_id()
        self.outgoing: asyncio.Queue[str] = asyncio.Queue()
        self.received = 0  # events from other instances, delivered here
        self.ready = asyncio.Event()  # hearing the others
        self.unsent: list[str] = []
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    def forward(self, channel: str, event: Event) -> None:
        """The hub's hook: this instance published ``event``; the others must hear it."""
        if self.outgoing.qsize() >= BACKLOG:
            self.outgoing.get_nowait()  # the oldest goes: sockets resync by sequence number
        self.outgoing.put_nowait(encode(self.instance, channel, event))

    def deliver(self, raw: str | bytes) -> None:
        sender, channel, event = decode(raw)
        if sender != self.instance:
            self.received += 1
            self.hub.deliver(channel, LAGGING if event == LAGGING else event)

    async def batch(self) -> list[str]:
        """The next events to send: at least one, at most ``BATCH``, those a failed send
        left first."""
        items, self.unsent = self.unsent[:BATCH], self.unsent[BATCH:]
        if not items:
            items.append(await self.outgoing.get())
        while len(items) < BATCH and not self.outgoing.empty():
            items.append(self.outgoing.get_nowait())
        return items

    async def send_all(self, send: Callable[[list[str]], Awaitable[Any]]) -> None:
        """Send batch after batch; a batch that fails is kept for the next connection
        (sent twice, maybe, which a socket shrugs off)."""
        while True:
            items = await self.batch()
            try:
                await send(items)
            except BaseException:
                self.unsent[:0] = items
                raise

    async def run(self) -> None:
        """Send and receive until stopped; on a failure, say so and try again."""
        while not self.stopping.is_set():
            self.ready.clear()
            try:
                await self.session()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the engine went away: the hub carries on locally
                logger.warning("live events over %s failed (%s); retrying", self.kind, error)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), RETRY_S)

    async def stop(self) -> None:
        """Stop between two reads, so no command is cut off half-way; cancelled if it
        takes longer than ``2 * CLOSE_S``."""
        self.stopping.set()
        if self.task is None:
            return
        done, _ = await asyncio.wait({self.task}, timeout=2 * CLOSE_S)
        if not done:
            logger.error("live events over %s did not stop in time", self.kind)
            self.task.cancel()
            await asyncio.wait({self.task}, timeout=CLOSE_S)

    kind = "?"

    async def session(self) -> None:
        raise NotImplementedError


class RedisStream(Shared):
    """Events through one capped Redis stream, read by every instance."""

    kind = "redis"

    def __init__(self, hub: Hub, name: str, url: str) -> None:
        super().__init__(hub, name)
        self.url = url
        self.last_id = "$"  # from now on; after a reconnect, from the last entry seen

    async def session(self) -> None:
        import redis.asyncio as redis

        client = redis.from_url(self.url)
        try:
            await client.ping()
            if self.last_id == "$":  # pin "now" before anything is sent
                entries = await client.xrevrange(self.name, count=1)
                self.last_id = entries[0][0].decode() if entries else "0-0"
            self.ready.set()
            writer = asyncio.ensure_future(self.write(client))
            try:
                await self.read(client)  # until stopped
            finally:
                writer.cancel()
                await asyncio.wait({writer}, timeout=CLOSE_S)
                if writer.done() and not writer.cancelled() and writer.exception():
                    raise writer.exception()  # type: ignore[misc]
        finally:
            with contextlib.suppress(Exception):
                # The pool too: redis-py 4.6's close() alone leaves its sockets open,
                # and uvloop (which Sanic installs) waits on an open one for ever.
                await asyncio.wait_for(client.close(close_connection_pool=True), CLOSE_S)

    async def write(self, client: Any) -> None:
        async def append(items: list[str]) -> None:
            async with client.pipeline(transaction=False) as pipe:
                for item in items:
                    pipe.xadd(self.name, {"e": item}, maxlen=STREAM_LENGTH, approximate=True)
                await pipe.execute()

        await self.send_all(append)

    async def read(self, client: Any) -> None:
        while not self.stopping.is_set():
            found = await client.xread({self.name: self.last_id}, count=BATCH, block=READ_MS)
            for _, entries in found or ():
                for entry_id, fields in entries:
                    self.last_id = entry_id.decode()
                    self.deliver(fields[b"e"])


class PostgresNotify(Shared):
    """Events as NOTIFY on one channel of the service's PostgreSQL, heard by LISTEN."""

    kind = "postgres"

    def __init__(self, hub: Hub, name: str, database_url: str) -> None:
        super().__init__(hub, name)
        self.dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )

    async def session(self) -> None:
        import asyncpg

        listener = await asyncpg.connect(self.dsn)
        sender: Any = None
        writer: asyncio.Future[None] | None = None
        lost = asyncio.get_running_loop().create_future()

        def closed(_: Any) -> None:
            if not lost.done():
                lost.set_result(None)

        try:
            sender = await asyncpg.connect(self.dsn)
            await listener.add_listener(self.name, lambda *args: self.deliver(args[3]))
            listener.add_termination_listener(closed)
            self.ready.set()
            writer = asyncio.ensure_future(self.write(sender))
            stopped = asyncio.ensure_future(self.stopping.wait())
            try:
                await asyncio.wait({writer, lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
            if writer.done() and writer.exception() is not None:
                raise writer.exception()  # type: ignore[misc]
            if not self.stopping.is_set():
                raise ConnectionError("the LISTEN connection closed")
        finally:
            if writer is not None:  # stopped, and waited for, before its connection goes
                writer.cancel()
                await asyncio.wait({writer}, timeout=CLOSE_S)
            for connection in (listener, sender):
                if connection is not None:
                    connection.terminate()  # at once: close() may wait on the server

    async def write(self, connection: Any) -> None:
        async def notify(items: list[str]) -> None:
            rows = [(self.name, fitted(item)) for item in items]
            await connection.executemany("SELECT pg_notify($1, $2)", rows)

        await self.send_all(notify)


def fitted(item: str) -> str:
    """A payload NOTIFY takes: a message nudge over the limit goes without its message;
    any other event over it (the agents' queue passes 8,000 bytes at about 27 waiting
    handoffs) becomes ``lagging`` for that channel, so the other instances' sockets on it
    reconnect and read everything afresh: nothing is wrong or lost, but it costs a
    reconnect per event, which is why a cluster uses Redis."""
    if len(item.encode()) < NOTIFY_LIMIT:
        return item
    data = json.loads(item)
    data["event"].pop("message", None)
    slim = json.dumps(data)
    if len(slim.encode()) < NOTIFY_LIMIT:
        return slim
    logger.warning("a %s event is too large to NOTIFY: sent as lagging", data["event"].get("type"))
    return json.dumps({**data, "event": LAGGING})


EVENTS = web.AppKey("events", Shared)


async def shared_events(app: web.Application) -> AsyncIterator[None]:
    """Join this instance's hub to the others', as ``HANDOFF_EVENTS`` says."""
    settings = app[SETTINGS]
    if settings.events == "local":
        yield
        return
    hub = app[HUB]
    engine: Shared
    if settings.events == "redis":
        engine = RedisStream(hub, settings.events_channel, settings.redis_url)
    else:
        engine = PostgresNotify(hub, settings.events_channel, settings.database_url)
    app[EVENTS] = engine
    hub.forward = engine.forward
    engine.task = asyncio.create_task(engine.run(), name=f"events-{engine.kind}")
    try:  # serve once the others are heard, or say why not and serve this instance alone
        await asyncio.wait_for(engine.ready.wait(), READY_S)
    except asyncio.TimeoutError:
        logger.error("live events over %s are not connected yet; retrying", engine.kind)
    yield
    hub.forward = None
    await engine.stop()
