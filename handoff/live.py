"""Who speaks for the company in a conversation, and telling the sockets what changed.

The service owns every conversation: while no handoff is open, the bot does, and each
customer message is relayed to Rasa and its replies stored; from the moment a handoff
opens, the queue or an agent does, and nothing reaches Rasa until the agent hands the
conversation back. The bot is silent during a handoff because it is never asked.

Messages are stored first and announced after their transaction commits (a ``sync``
nudge on the conversation's channel); each socket then reads what it has not sent yet,
in sequence order, so a dropped event loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from handoff.hub import AGENTS, Event, Hub, agent_channel, conversation_channel
from handoff.settings import Settings
from handoff.state import HTTP, HUB, RELAY, SETTINGS, STORE

logger = logging.getLogger(__name__)
RASA_TIMEOUT = aiohttp.ClientTimeout(total=30)
UNAVAILABLE = (
    "Sorry, our assistant is briefly unavailable. Try again in a moment, or talk to a "
    "person from our support team."
)
ASK_FOR_PERSON = {"title": "Talk to a person", "payload": "/request_human"}
# At start-up the bot is asked again about customer messages this recent that a stopped
# service never stored an answer to; older ones would surprise the customer.
RESUME_WINDOW = dt.timedelta(minutes=15)


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


async def customer_message(
    app: web.Application, conversation_id: str, text: str, client_id: str | None
) -> dict[str, Any]:
    """Store a customer's message; unless a person owns the chat, let the bot answer it."""
    store = app[STORE]
    message = await store.customer_message(conversation_id, text, client_id)
    if message.pop("bot_answers", False):  # checked again in turn: the bot may hand over
        app[RELAY].start(
            _answer(app, conversation_id, message["seq"], text), f"answer:{conversation_id}"
        )
    return message


async def answer_unanswered(app: web.Application) -> int:
    """At start-up: ask the bot about the customer messages a killed service stored but
    never answered; how many. (Rasa sees a message twice if the service died after Rasa
    answered but before the replies were stored.)"""
    store = app[STORE]
    waiting = await store.unanswered(store.clock() - RESUME_WINDOW)
    for conversation_id, seq, text in waiting:
        app[RELAY].start(_answer(app, conversation_id, seq, text), f"answer:{conversation_id}")
    if waiting:
        logger.info("asking the bot again about %d unanswered customer messages", len(waiting))
    return len(waiting)


async def _answer(app: web.Application, conversation_id: str, seq: int, text: str) -> None:
    """Relay one customer message to Rasa and store its replies; errors end up as a message."""
    try:
        async with app[RELAY].lock(conversation_id):
            if await app[STORE].open_handoff(conversation_id) is not None:
                return  # a person owns the conversation: the bot is not asked
            tell(app, conversation_id, {"type": "typing", "speaker": "bot"})
            await _ask_rasa(app, conversation_id, text)
    except Exception:
        logger.exception("answering message %s of %s failed", seq, conversation_id)


async def _ask_rasa(app: web.Application, conversation_id: str, text: str) -> None:
    store, settings = app[STORE], app[SETTINGS]
    try:
        replies = await rasa_replies(app[HTTP], settings, conversation_id, text)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        logger.warning("Rasa did not answer for %s: %s", conversation_id, error)
        if text.strip() == ASK_FOR_PERSON["payload"]:
            await escalate_without_bot(app, conversation_id)
        else:
            await store.say(conversation_id, "system", UNAVAILABLE, [ASK_FOR_PERSON])
        return
    for reply in replies:
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in reply.get("buttons") or []
        ]
        if reply.get("text") or buttons:
            await store.say(conversation_id, "bot", str(reply.get("text") or ""), buttons)
    if await store.open_handoff(conversation_id) is not None:
        await queue_changed(app)  # the bot handed over while answering


async def rasa_replies(
    http: aiohttp.ClientSession, settings: Settings, conversation_id: str, text: str
) -> list[dict[str, Any]]:
    """The bot's replies to one message, through Rasa's REST channel."""
    url = f"{settings.rasa_url.rstrip('/')}/webhooks/rest/webhook"
    body = {"sender": conversation_id, "message": text}
    async with http.post(url, json=body, timeout=RASA_TIMEOUT) as response:
        if response.status != 200:
            raise ValueError(f"Rasa answered {response.status}")
        replies = await response.json()
    if not isinstance(replies, list):
        raise ValueError("Rasa's answer is not a list of messages")
    return [r for r in replies if isinstance(r, dict)]


async def escalate_without_bot(app: web.Application, conversation_id: str) -> None:
    """The customer asked for a person while Rasa was down: queue them ourselves."""
    store = app[STORE]
    history = await store.messages(conversation_id)
    record = {
        "idempotency_key": f"unavailable-{conversation_id}-{uuid.uuid4().hex[:8]}",
        "conversation_id": conversation_id,
        "reason": {"trigger": "explicit_request", "value": "assistant unavailable"},
        "summary": "The assistant was unavailable, and the customer asked for a person.",
        "score_trail": [],
        "transcript": [
            {"speaker": m["speaker"], "text": m["text"]}
            for m in history
            if m["speaker"] in ("customer", "bot")
        ],
    }
    handoff_id, created = await store.create_handoff(record)
    if created:
        await handoff_created(app, handoff_id)


async def handoff_created(app: web.Application, handoff_id: int) -> None:
    """Agents hear of the new chat; the customer hears where they stand, or that nobody is in."""
    store = app[STORE]
    row, estimate = await store.handoff(handoff_id), await store.estimate(handoff_id)
    entry = next((e for e in await store.queue() if e["id"] == handoff_id), None)
    if entry is not None:
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
