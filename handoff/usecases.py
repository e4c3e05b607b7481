"""Each change the service makes, and its announcement, in one place.

A view or a socket handler reads its input, calls one of these, and maps the domain
errors; it does not orchestrate. Every change is stored first (the store announces the
messages it wrote once they are committed), then the sockets hear what follows from it.

The service owns every conversation: while no handoff is open, the bot does, and each
customer message is relayed to Rasa and its replies stored; from the moment a handoff
opens, the queue or an agent does, and nothing reaches Rasa until the agent hands the
conversation back. The bot is silent during a handoff because it is never asked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.engine import Row

from contracts import triggers
from contracts.orders import normalize_order_number
from contracts.pii import email_digest
from handoff import live, misses
from handoff.clients import rasa
from handoff.hub import Event
from handoff.redact import emails
from handoff.state import ACCOUNTS, HTTP, RELAY, SETTINGS, STORE

logger = logging.getLogger(__name__)
UNAVAILABLE = (
    "Sorry, our assistant is briefly unavailable. Try again in a moment, or talk to a "
    "person from our support team."
)
REQUEST_HUMAN = "request_human"  # the intent, and the button's payload
ASK_FOR_PERSON = {"title": "Talk to a person", "payload": f"/{REQUEST_HUMAN}"}
# At start-up the bot is asked again about customer messages this recent that a stopped
# service never stored an answer to; older ones would surprise the customer.
RESUME_WINDOW = dt.timedelta(minutes=15)


# --- escalations ---------------------------------------------------------------------


async def create_handoff(
    app: web.Application, record: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Queue an escalation once per key: the queue's answer (state, place in line, wait)
    and whether it is new. A new one is announced to the agents and the customer."""
    store = app[STORE]
    handoff_id, created = await store.create_handoff(record)
    row, estimate = await store.handoff(handoff_id), await store.estimate(handoff_id)
    if created:
        await live.handoff_created(app, row, estimate)
    answer = {"handoff_id": handoff_id, "state": row.state, "created": created}
    return {**answer, **estimate.as_dict()}, created


# --- agents ----------------------------------------------------------------------------


async def set_availability(app: web.Application, agent_id: int, available: bool) -> None:
    """Taking chats or away: every waiting customer's estimate changes with it."""
    await app[ACCOUNTS].set_available(agent_id, available)
    await live.queue_changed(app)


async def claim(app: web.Application, handoff_id: int | None, agent: Row) -> dict[str, Any]:
    """The agent takes this handoff (or the next in line): everything about it."""
    claimed = await app[STORE].claim(handoff_id, agent.id)
    await live.claimed(app, claimed, agent.id, agent.name)
    return await app[STORE].detail(claimed)


def agent_left(agent: Row) -> Event:
    return {"type": "agent_left", "name": agent.name}


async def close(
    app: web.Application, handoff_id: int, agent: Row, state: str, system_text: str, *told: Event
) -> None:
    """Close the agent's handoff as ``state``; the customer is ``told`` what happens next."""
    await app[STORE].close(handoff_id, agent.id, state, system_text)
    await live.released(app, handoff_id, agent.id, *told)


async def resolve(app: web.Application, handoff_id: int, agent: Row) -> None:
    text = f"{agent.name} marked the conversation resolved."
    await close(
        app, handoff_id, agent, "resolved", text, agent_left(agent), {"type": "csat_request"}
    )


async def abandon(app: web.Application, handoff_id: int, agent: Row) -> None:
    text = f"{agent.name} closed the chat: the customer had left."
    await close(app, handoff_id, agent, "abandoned", text)


async def return_to_bot(
    app: web.Application, handoff_id: int, agent: Row, summary: str | None
) -> None:
    """Hand the chat back: Rasa resumes with a note of what the agent did and the order the
    chat was about (so the customer is not asked again), then the handoff closes.
    If Rasa cannot be reached the chat stays with the agent (502)."""
    row = await app[STORE].check_owned(handoff_id, agent.id)
    said = await app[STORE].messages(row.conversation_id)
    # The customer's own words only: a bot's "reference ESC-074566" is no order number.
    typed = (m["text"] for m in reversed(said) if m["speaker"] == "customer")
    order = next(filter(None, map(normalize_order_number, typed)), None)
    slots = {"order_number": order} if order else {}
    note = summary or f"{agent.name} helped with: {row.summary}"
    await rasa.resume(app[HTTP], app[SETTINGS], row.conversation_id, note, slots)
    text = f"{agent.name} handed the chat back to the assistant."
    await close(
        app, handoff_id, agent, "returned", text, agent_left(agent), {"type": "bot_resumed"}
    )


async def reassign(app: web.Application, handoff_id: int, agent: Row, to_agent: int | None) -> str:
    """Pass a held chat to a colleague, or back to the queue: the handoff's new state."""
    await app[STORE].reassign(handoff_id, agent.id, to_agent)
    await live.released(app, handoff_id, agent.id, agent_left(agent))
    if to_agent is None:
        return "queued"
    target = await app[ACCOUNTS].agent(to_agent)
    await live.claimed(app, handoff_id, to_agent, target["name"])
    return "assigned"


# --- customers -------------------------------------------------------------------------


async def leave(app: web.Application, conversation_id: str) -> int | None:
    """The customer left: an open handoff closes as abandoned; its agent is told."""
    holder = await app[STORE].open_handoff(conversation_id)
    closed = await app[STORE].abandon(conversation_id)
    if closed is not None and holder is not None:
        left = {"type": "customer_left", "speaker": "customer"}
        await live.released(app, closed, holder.agent_id, left)
    return closed


async def customer_message(
    app: web.Application, conversation_id: str, text: str, client_id: str | None
) -> dict[str, Any]:
    """Store a customer's message; unless a person owns the chat, let the bot answer it.

    The bot gets the text as stored, redacted, and keyed digests of the email addresses
    taken out of it (to check an order's email against)."""
    store = app[STORE]
    message = await store.customer_message(conversation_id, text, client_id)
    if message.pop("bot_answers", False):  # checked again in turn: the bot may hand over
        key = app[SETTINGS].pii_key
        digests = [email_digest(key, email) for email in emails(text)] if key else []
        answer = _answer(app, conversation_id, message["seq"], message["text"], digests)
        app[RELAY].start(answer, f"answer:{conversation_id}")
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


async def _answer(
    app: web.Application,
    conversation_id: str,
    seq: int,
    text: str,
    digests: list[str] | None = None,
) -> None:
    """Relay one customer message to Rasa and store its replies; errors end up as a message."""
    try:
        async with app[RELAY].lock(conversation_id):
            if await app[STORE].open_handoff(conversation_id) is not None:
                return  # a person owns the conversation: the bot is not asked
            live.tell(app, conversation_id, {"type": "typing", "speaker": "bot"})
            await _ask_rasa(app, conversation_id, seq, text, digests)
    except Exception:
        logger.exception("answering message %s of %s failed", seq, conversation_id)


async def _ask_rasa(
    app: web.Application, conversation_id: str, seq: int, text: str, digests: list[str] | None
) -> None:
    store, settings = app[STORE], app[SETTINGS]
    try:
        replies, understood = await rasa.replies(
            app[HTTP], settings, conversation_id, text, digests
        )
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        logger.warning("Rasa did not answer for %s: %s", conversation_id, error)
        if text.strip() == ASK_FOR_PERSON["payload"]:
            await escalate_without_bot(app, conversation_id)
        else:
            await store.say(conversation_id, "system", UNAVAILABLE, [ASK_FOR_PERSON])
        return
    said = 0
    for reply in replies:
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in reply.get("buttons") or []
        ]
        if reply.get("text") or buttons:
            # The first answer of the turn carries what it answered with, for 👍/👎.
            answer = (understood or {}).get("answer") if not said else None
            await store.say(conversation_id, "bot", str(reply.get("text") or ""), buttons, answer)
            said += 1
    if understood is not None:
        await _note_turn(app, conversation_id, seq, understood)
    if await store.open_handoff(conversation_id) is not None:
        await live.queue_changed(app)  # the bot handed over while answering
    elif not said:
        await _answered_nothing(app, conversation_id, text)


async def _note_turn(
    app: web.Application, conversation_id: str, seq: int, understood: dict[str, Any]
) -> None:
    """The studio's inbox learns from the turn; a failure there never fails the chat."""
    try:
        await misses.note_turn(app, conversation_id, seq, understood)
    except Exception:
        logger.exception("could not note what the bot understood of %s", conversation_id)


async def _answered_nothing(app: web.Application, conversation_id: str, text: str) -> None:
    """Rasa answered with silence: one of its actions failed (the action server is down).
    A customer who asked for a person is queued anyway; anyone else hears it honestly."""
    logger.warning("Rasa answered nothing for %s; is the action server up?", conversation_id)
    wanted = text.strip() == ASK_FOR_PERSON["payload"] or (
        await rasa.latest_intent(app[HTTP], app[SETTINGS], conversation_id) == REQUEST_HUMAN
    )
    if wanted:
        await escalate_without_bot(app, conversation_id)
    else:
        await app[STORE].say(conversation_id, "system", UNAVAILABLE, [ASK_FOR_PERSON])


async def escalate_without_bot(app: web.Application, conversation_id: str) -> None:
    """The customer asked for a person while Rasa was down: queue them ourselves."""
    store = app[STORE]
    history = await store.messages(conversation_id)
    record = {
        "idempotency_key": f"unavailable-{conversation_id}-{uuid.uuid4().hex[:8]}",
        "conversation_id": conversation_id,
        "reason": {"trigger": triggers.EXPLICIT, "value": "assistant unavailable"},
        "summary": "The assistant was unavailable, and the customer asked for a person.",
        "score_trail": [],
        "transcript": [
            {"speaker": m["speaker"], "text": m["text"]}
            for m in history
            if m["speaker"] in ("customer", "bot")
        ],
    }
    await create_handoff(app, record)
