"""Live events inside one service process: who is listening to which conversation
(``handoff.events`` joins the processes when there are several).

Every message is stored before it is published, so the hub may drop an event and nothing
is lost: a socket that falls behind is closed, and its client reconnects and asks for
everything after the last sequence number it saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

logger = logging.getLogger(__name__)
Event = dict[str, Any]
AGENTS = "agents"  # every signed-in agent: queue changes, new handoffs


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def agent_channel(agent_id: int) -> str:
    return f"agent:{agent_id}"


LAGGING: Event = {"type": "lagging"}  # the last event a slow reader gets


class Subscription:
    """One socket's inbox. A reader that falls ``size`` events behind gets ``LAGGING`` and
    nothing more: its socket closes and the client resyncs from the database."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.lagging = False

    def offer(self, event: Event) -> None:
        if self.lagging:
            return
        if self.queue.qsize() >= self.size:  # back-pressure: a slow reader never grows memory
            event = LAGGING
        self.lagging = event is LAGGING  # also sent on purpose (handoff.events.fitted)
        self.queue.put_nowait(event)


class Relay:
    """Messages to Rasa go one at a time per conversation, in the order they were stored;
    the tasks still answering are awaited when the service stops."""

    def __init__(self) -> None:
        # One lock per conversation with a message in flight, and how many hold or await it:
        # a conversation's lock is forgotten when its last user leaves, so the map stays
        # as small as the number of conversations talking to the bot right now.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.queue_pending = False  # a queue recomputation is scheduled

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        """This conversation's turn at the bot: one message at a time, in order."""
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    def locks_held(self) -> int:
        """Conversations with a message at the bot or waiting for it."""
        return len(self._locks)

    def start(self, work: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class Hub:
    """Channels of subscriptions; publishing never waits for a reader."""

    def __init__(self, inbox_size: int = 256) -> None:
        self.inbox_size = inbox_size
        self._channels: dict[str, set[Subscription]] = defaultdict(set)
        # Set when other instances share the events (handoff.events): it sends them on.
        self.forward: Callable[[str, Event], None] | None = None

    @contextmanager
    def subscribe(self, *channels: str) -> Iterator[Subscription]:
        subscription = Subscription(self.inbox_size)
        for channel in channels:
            self._channels[channel].add(subscription)
        try:
            yield subscription
        finally:
            for channel in channels:
                self.leave(channel, subscription)

    def join(self, channel: str, subscription: Subscription) -> None:
        self._channels[channel].add(subscription)

    def leave(self, channel: str, subscription: Subscription) -> None:
        members = self._channels.get(channel)
        if members is not None:
            members.discard(subscription)
            if not members:
                del self._channels[channel]

    def publish(self, channel: str, event: Event) -> None:
        """To this instance's sockets on ``channel``, and to the other instances'."""
        self.deliver(channel, event)
        if self.forward is not None:
            self.forward(channel, event)

    def deliver(self, channel: str, event: Event) -> None:
        """To this instance's sockets only (an event another instance published)."""
        for subscription in list(self._channels.get(channel, ())):
            subscription.offer(event)

    def listeners(self, channel: str) -> int:
        return len(self._channels.get(channel, ()))
