"""Telling the sockets what changed: fan-out of stored messages and passing events.

Messages are stored first and announced after their transaction commits (a ``sync``
nudge on the conversation's channel); each socket then reads what it has not sent yet,
in sequence order, so a dropped event loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Row

from handoff.db.queue import WAITING, Estimate
from handoff.db.read_models import queue_entry
from handoff.hub import AGENTS, Event, Hub, agent_channel, conversation_channel
from handoff.state import HUB, RELAY, STORE

logger = logging.getLogger(__name__)


def announce_messages(hub: Hub) -> Any:
    """The store's hook: a ``sync`` nudge on the conversation's channel per stored message,
    carrying the message, so a socket that is up to date need not read it back."""

    def nudge(conversation_id: str, message: dict[str, Any]) -> None:
        hub.publish(
            conversation_channel(conversation_id),
            {
                "type": "sync",
                "conversation_id": conversation_id,
                "seq": message["seq"],
                "message": message,
            },
        )

    return nudge


def tell(app: web.Application, conversation_id: str, event: Event) -> None:
    """A passing event (typing, queue update, agent joined …) for a conversation's sockets.

    It names its conversation: an agent holding several chats must know whose it is.
    """
    app[HUB].publish(
        conversation_channel(conversation_id), {"conversation_id": conversation_id, **event}
    )


async def queue_changed(app: web.Application) -> None:
    """Every waiting customer's new place in line, and the new queue for every agent.

    Worked out once for all the changes of the moment: a burst of claims or escalations
    shares one recomputation instead of queueing one each.
    """
    relay = app[RELAY]
    if not relay.queue_pending:
        relay.queue_pending = True
        relay.start(_publish_queue(app), "queue")


async def _publish_queue(app: web.Application) -> None:
    await asyncio.sleep(0)  # let the other changes of this moment arrive
    app[RELAY].queue_pending = False
    try:
        for handoff_id, conversation_id, estimate in await app[STORE].estimates():
            event = {"type": "queue", "handoff_id": handoff_id, **estimate.as_dict()}
            tell(app, conversation_id, event)
        app[HUB].publish(AGENTS, {"type": "queue", "queue": await app[STORE].queue()})
    except Exception:
        logger.exception("publishing the queue failed")


def agent_event(app: web.Application, agent_id: int, event: Event) -> None:
    app[HUB].publish(agent_channel(agent_id), event)


async def handoff_created(app: web.Application, row: Row, estimate: Estimate) -> None:
    """Agents hear of the new chat; the customer hears where they stand, or that nobody is in."""
    if row.state in WAITING:
        entry = {**queue_entry(row, app[STORE].clock()), "position": estimate.position}
        app[HUB].publish(AGENTS, {"type": "handoff_new", "handoff": entry})
    if estimate.offline_reason:
        tell(app, row.conversation_id, {"type": "offline", "reason": estimate.offline_reason})
    await queue_changed(app)


async def claimed(app: web.Application, handoff_id: int, agent_id: int, name: str) -> None:
    """The agent's sockets join the conversation; the customer hears who joined."""
    row = await app[STORE].handoff(handoff_id)
    seq = await app[STORE].latest_seq(row.conversation_id)
    agent_event(
        app,
        agent_id,
        {
            "type": "claimed",
            "handoff_id": handoff_id,
            "conversation_id": row.conversation_id,
            "seq": seq,
        },
    )
    tell(app, row.conversation_id, {"type": "agent_joined", "name": name})
    await queue_changed(app)


async def released(
    app: web.Application, handoff_id: int, agent_id: int | None, *customer_events: Event
) -> None:
    """The agent's sockets leave the conversation; the customer hears what happens next."""
    row = await app[STORE].handoff(handoff_id)
    for event in customer_events:
        tell(app, row.conversation_id, event)
    if agent_id is not None:
        agent_event(
            app,
            agent_id,
            {"type": "released", "handoff_id": handoff_id, "conversation_id": row.conversation_id},
        )
    await queue_changed(app)
