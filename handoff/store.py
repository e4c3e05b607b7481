"""The data layer: every query and state change of the service, raising domain errors.

A handoff moves ``queued → assigned → resolved | returned | abandoned``; a queued one
becomes an ``offline`` ticket when nobody can answer and the customer leaves an email,
and waits for the first agent to claim it. Every change is written to the audit log in
the same transaction.

SQLite allows one writer at a time, so on SQLite the writes of this process take turns
behind one lock; on PostgreSQL, row locks (``FOR UPDATE``) keep claims atomic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import triggers
from handoff.auth import digest, new_token
from handoff.errors import Conflict, Forbidden, NotFound
from handoff.models import (
    agent_tokens,
    agents,
    audit_log,
    conversations,
    customers,
    handoffs,
    messages,
    notes,
)
from handoff.redact import redact
from handoff.settings import Settings

# Strong anger and sensitive topics first; a plain request next; not understood last.
PRIORITY = {
    triggers.SENSITIVE: 3,
    triggers.STRONG_NEGATIVE: 3,
    triggers.NEGATIVE_TREND: 2,
    triggers.EXPLICIT: 2,
    triggers.LOW_CONFIDENCE: 1,
}
WAITING = ("queued", "offline")
# The order agents take waiting handoffs in: live customers before offline tickets, then
# by rank (creation time moved earlier by priority), then first come first served.
WAITING_ORDER = (
    case((handoffs.c.state == "offline", 1), else_=0),
    handoffs.c.rank_at,
    handoffs.c.id,
)
OPEN = ("queued", "assigned", "offline")
REASON_TEXT = {
    triggers.EXPLICIT: "the customer asked for a person",
    triggers.SENSITIVE: "a topic that always goes to a person",
    triggers.STRONG_NEGATIVE: "the customer sounded very upset",
    triggers.NEGATIVE_TREND: "the customer stayed unhappy",
    triggers.LOW_CONFIDENCE: "the assistant did not understand",
}


# The messages a write transaction stored, announced after it commits.
_STORED: ContextVar[list[tuple[str, dict[str, Any]]]] = ContextVar("stored_messages")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


@dataclass(frozen=True)
class Estimate:
    """Where a waiting customer stands: position, expected wait, or why nobody can answer."""

    position: int | None
    wait_s: int | None
    offline_reason: str | None  # "outside_hours", "no_agents" or None

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "estimated_wait_s": self.wait_s,
            "offline": self.offline_reason is not None,
            "offline_reason": self.offline_reason,
        }


class Store:
    """Queries and state changes over one engine."""

    def __init__(
        self, engine: AsyncEngine, settings: Settings, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self._serial = engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock()
        # Called with (conversation_id, message) for each message, once its transaction committed.
        self.on_message: Callable[[str, dict[str, Any]], None] = lambda conversation_id, m: None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction that may write; SQLite's writers take turns."""
        stored: list[tuple[str, dict[str, Any]]] = []
        marker = _STORED.set(stored)
        try:
            if self._serial:
                async with self._write_lock, self.engine.begin() as connection:
                    yield connection
            else:
                async with self.engine.begin() as connection:
                    yield connection
        finally:
            _STORED.reset(marker)
        for conversation_id, message in stored:  # committed: now the listeners may read them
            self.on_message(conversation_id, message)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            yield connection

    # --- customers -----------------------------------------------------------------

    async def open_session(self, customer_ref: str | None) -> tuple[str, str]:
        """A new conversation and its customer token: ``(conversation_id, token)``."""
        token, conversation_id = new_token(), "c-" + secrets.token_urlsafe(18)
        async with self.write() as connection:
            customer_id = await self._customer(connection, customer_ref)
            await connection.execute(
                conversations.insert().values(
                    id=conversation_id,
                    customer_id=customer_id,
                    token_hash=digest(token),
                    created_at=self.clock(),
                )
            )
        return conversation_id, token

    async def _customer(self, connection: AsyncConnection, ref: str | None) -> int:
        """The customer with this reference, created if new (a race is settled by the key)."""
        query = select(customers.c.id).where(customers.c.ref == ref)
        if ref and (found := (await connection.execute(query)).scalar()):
            return int(found)
        try:
            async with connection.begin_nested():
                result = await connection.execute(
                    customers.insert().values(ref=ref or None, created_at=self.clock())
                )
        except IntegrityError:
            return int((await connection.execute(query)).scalar_one())
        return int(result.inserted_primary_key[0])

    async def conversation_for_token(self, token: str) -> str | None:
        async with self.read() as connection:
            query = select(conversations.c.id).where(conversations.c.token_hash == digest(token))
            return (await connection.execute(query)).scalar()

    async def _ensure_conversation(self, connection: AsyncConnection, conversation_id: str) -> None:
        """Conversations the bot started before any session (e.g. Rasa's REST channel)."""
        query = select(conversations.c.id).where(conversations.c.id == conversation_id)
        if (await connection.execute(query)).first():
            return
        customer_id = await self._customer(connection, None)
        await connection.execute(
            conversations.insert().values(
                id=conversation_id, customer_id=customer_id, created_at=self.clock()
            )
        )

    async def _lock_conversation(self, connection: AsyncConnection, conversation_id: str) -> None:
        query = select(conversations.c.id).where(conversations.c.id == conversation_id)
        if (await connection.execute(query.with_for_update())).first() is None:
            raise NotFound("conversation")

    # --- handoffs ------------------------------------------------------------------

    async def create_handoff(self, record: dict[str, Any]) -> tuple[int, bool]:
        """Queue an escalation once per key: ``(handoff_id, created)``.

        A retry with the same key, or a second escalation while the conversation still
        waits or talks to a person, returns the handoff that already exists.
        """
        for _attempt in range(3):
            try:
                return await self._create_handoff(record)
            except IntegrityError:  # a concurrent twin won; it is committed now
                async with self.read() as connection:
                    found = await self._handoff_by_key(connection, record["idempotency_key"])
                if found is not None:
                    return found, False
        raise Conflict("busy", "The conversation is being changed; try again.")

    async def _create_handoff(self, record: dict[str, Any]) -> tuple[int, bool]:
        async with self.write() as connection:
            found = await self._handoff_by_key(connection, record["idempotency_key"])
            if found is not None:
                return found, False
            conversation_id = record["conversation_id"]
            await self._ensure_conversation(connection, conversation_id)
            await self._lock_conversation(connection, conversation_id)
            open_one = await self._open_handoff(connection, conversation_id)
            if open_one is not None:
                return open_one, False
            handoff_id = await self._insert_handoff(connection, record)
            if not await self._has_messages(connection, conversation_id):
                await self._import_transcript(connection, conversation_id, record)
            else:  # the gateway stored the chat already: add what the bot knew of each turn
                await self._annotate(connection, conversation_id, record.get("score_trail", []))
            why = REASON_TEXT[record["reason"]["trigger"]]
            text = f"Handed to the support team: {why}."
            await self._add_message(connection, conversation_id, "system", text)
            await self._audit(connection, handoff_id, "service", "created", None, "queued")
            return handoff_id, True

    async def _insert_handoff(self, connection: AsyncConnection, record: dict[str, Any]) -> int:
        now, trigger = self.clock(), record["reason"]["trigger"]
        priority = PRIORITY[trigger]  # the schema admits only known triggers
        result = await connection.execute(
            handoffs.insert().values(
                idempotency_key=record["idempotency_key"],
                conversation_id=record["conversation_id"],
                state="queued",
                trigger=trigger,
                reason=record["reason"],
                priority=priority,
                rank_at=now - dt.timedelta(seconds=priority * self.settings.priority_boost_s),
                summary=redact(record.get("summary", "")),
                score_trail=record.get("score_trail", []),
                transcript=[
                    {**line, "text": redact(str(line.get("text", "")))}
                    for line in record.get("transcript", [])
                ],
                created_at=now,
            )
        )
        return int(result.inserted_primary_key[0])

    async def _import_transcript(
        self, connection: AsyncConnection, conversation_id: str, record: dict[str, Any]
    ) -> None:
        """The bot's part of the conversation, with what it knew about each customer turn."""
        trail = iter(record.get("score_trail", []))
        for line in record.get("transcript", []):
            speaker = "customer" if line.get("speaker") == "customer" else "bot"
            turn: dict[str, Any] = next(trail, {}) if speaker == "customer" else {}
            await self._add_message(
                connection,
                conversation_id,
                speaker,
                str(line.get("text", "")),
                intent=turn.get("intent"),
                confidence=turn.get("confidence"),
                sentiment=turn.get("sentiment"),
                at=_parse_time(line.get("time")) or self.clock(),
            )

    async def _annotate(
        self, connection: AsyncConnection, conversation_id: str, trail: list[dict[str, Any]]
    ) -> None:
        """Intent, confidence and sentiment on the stored customer messages the trail names."""
        query = (
            select(messages.c.id, messages.c.text)
            .where(messages.c.conversation_id == conversation_id)
            .where(messages.c.speaker == "customer", messages.c.intent.is_(None))
            .order_by(messages.c.seq)
        )
        unmarked = list((await connection.execute(query)).all())
        for turn in trail:
            text = redact(str(turn.get("text", "")))
            match = next((i for i, m in enumerate(unmarked) if m.text == text), None)
            if match is None:
                continue
            await connection.execute(
                messages.update()
                .where(messages.c.id == unmarked[match].id)
                .values(
                    intent=turn.get("intent"),
                    confidence=turn.get("confidence"),
                    sentiment=turn.get("sentiment"),
                )
            )
            unmarked = unmarked[match + 1 :]

    async def _handoff_by_key(self, connection: AsyncConnection, key: str) -> int | None:
        query = select(handoffs.c.id).where(handoffs.c.idempotency_key == key)
        return (await connection.execute(query)).scalar()

    async def _open_handoff(self, connection: AsyncConnection, conversation_id: str) -> int | None:
        query = select(handoffs.c.id).where(
            handoffs.c.conversation_id == conversation_id, handoffs.c.state.in_(OPEN)
        )
        return (await connection.execute(query)).scalar()

    async def handoff(self, handoff_id: int) -> Row:
        async with self.read() as connection:
            return await self._handoff(connection, handoff_id)

    async def _handoff(
        self, connection: AsyncConnection, handoff_id: int, lock: bool = False
    ) -> Row:
        query = select(handoffs).where(handoffs.c.id == handoff_id)
        row = (await connection.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            raise NotFound("handoff")
        return row

    async def latest_handoff(self, conversation_id: str) -> Row | None:
        async with self.read() as connection:
            query = (
                select(handoffs)
                .where(handoffs.c.conversation_id == conversation_id)
                .order_by(handoffs.c.id.desc())
                .limit(1)
            )
            return (await connection.execute(query)).first()

    # --- the queue -----------------------------------------------------------------

    async def queue(self) -> list[dict[str, Any]]:
        """Waiting handoffs in the order agents should take them, offline tickets last."""
        async with self.read() as connection:
            rows = (
                await connection.execute(
                    select(handoffs).where(handoffs.c.state.in_(WAITING)).order_by(*WAITING_ORDER)
                )
            ).all()
        now = self.clock()
        return [
            {**queue_entry(row, now), "position": position}
            for row, position in zip(rows, positions(rows), strict=True)
        ]

    async def estimate(self, handoff_id: int) -> Estimate:
        """Position and expected wait for a handoff, recomputed from the current state
        (worked out the one way :meth:`estimates` does for everyone waiting)."""
        for found, _conversation_id, estimate in await self.estimates():
            if found == handoff_id:
                return estimate
        return Estimate(None, None, None)  # not waiting (any more)

    async def _offline_reason(self, connection: AsyncConnection) -> str | None:
        if not self.settings.hours.is_open(self.clock()):
            return "outside_hours"
        if not await self._available_agents(connection):
            return "no_agents"
        return None

    async def _available_agents(self, connection: AsyncConnection) -> list[Row]:
        """Agents marked available who hold an unexpired token, with their open chats."""
        query = select(agents.c.id, agents.c.capacity, chats_held().label("active")).where(
            agents.c.available.is_(True), signed_in(self.clock())
        )
        return list((await connection.execute(query)).all())

    async def estimates(self) -> list[tuple[int, str, Estimate]]:
        """``(handoff_id, conversation_id, estimate)`` for everyone waiting, from one read
        of the queue and the agents (not one per customer: this runs on every change)."""
        async with self.read() as connection:
            query = (
                select(handoffs.c.id, handoffs.c.conversation_id, handoffs.c.state)
                .where(handoffs.c.state.in_(WAITING))
                .order_by(*WAITING_ORDER)
            )
            rows = (await connection.execute(query)).all()
            if not rows:
                return []
            offline = await self._offline_reason(connection)
            available = await self._available_agents(connection)
            handle_s = await self._recent_handle_s(connection)
        found = []
        for row, position in zip(rows, positions(rows), strict=True):
            wait = None if offline or position is None else wait_s(position, available, handle_s)
            found.append((row.id, row.conversation_id, Estimate(position, wait, offline)))
        return found

    async def _recent_handle_s(self, connection: AsyncConnection, sample: int = 20) -> float:
        query = (
            select(handoffs.c.assigned_at, handoffs.c.closed_at)
            .where(handoffs.c.state.in_(("resolved", "returned")))
            .where(handoffs.c.assigned_at.is_not(None))
            .order_by(handoffs.c.closed_at.desc())
            .limit(sample)
        )
        rows = (await connection.execute(query)).all()
        spans = [(r.closed_at - r.assigned_at).total_seconds() for r in rows]
        return sum(spans) / len(spans) if spans else float(self.settings.default_handle_s)

    # --- agents taking, answering and closing handoffs -----------------------------

    async def claim(self, handoff_id: int | None, agent_id: int) -> int:
        """Assign a waiting handoff (or the next in line) to the agent, atomically."""
        async with self.write() as connection:
            agent = await self._lock_agent(connection, agent_id)
            active = await self._active_count(connection, agent_id)
            if active >= agent.capacity:
                raise Conflict(
                    "at_capacity",
                    f"You already have {active} open conversation(s), your limit is "
                    f"{agent.capacity}; resolve or hand one back first.",
                )
            if handoff_id is None:
                handoff_id = await self._next_waiting(connection)
            now = self.clock()
            result = await connection.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.state.in_(WAITING))
                .values(state="assigned", agent_id=agent_id, assigned_at=now)
            )
            if result.rowcount != 1:
                row = await self._handoff(connection, handoff_id)
                raise Conflict("already_claimed", f"This conversation is already {row.state}.")
            row = await self._handoff(connection, handoff_id)
            await self._add_message(
                connection, row.conversation_id, "system", f"{agent.name} joined the chat."
            )
            await self._audit(
                connection, handoff_id, f"agent:{agent_id}", "claimed", None, "assigned"
            )
            return handoff_id

    async def _next_waiting(self, connection: AsyncConnection) -> int:
        query = (
            select(handoffs.c.id)
            .where(handoffs.c.state.in_(WAITING))
            .order_by(*WAITING_ORDER)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        found = (await connection.execute(query)).scalar()
        if found is None:
            raise NotFound("waiting conversation: the queue is empty")
        return int(found)

    async def _lock_agent(self, connection: AsyncConnection, agent_id: int) -> Row:
        query = select(agents).where(agents.c.id == agent_id).with_for_update()
        row = (await connection.execute(query)).first()
        if row is None:
            raise NotFound("agent")
        return row

    async def _active_count(self, connection: AsyncConnection, agent_id: int) -> int:
        query = select(func.count()).where(
            handoffs.c.agent_id == agent_id, handoffs.c.state == "assigned"
        )
        return int((await connection.execute(query)).scalar_one())

    async def _owned(
        self, connection: AsyncConnection, handoff_id: int, agent_id: int, lock: bool = True
    ) -> Row:
        """The handoff (locked for a change) if this agent holds it; else a clear refusal."""
        row = await self._handoff(connection, handoff_id, lock=lock)
        if row.state != "assigned":
            raise Conflict("wrong_state", f"This conversation is {row.state}, not assigned.")
        if row.agent_id != agent_id:
            raise Forbidden("not_your_conversation", "Another agent holds this conversation.")
        return row

    async def agent_message(
        self, handoff_id: int, agent_id: int, text: str, client_id: str | None = None
    ) -> dict[str, Any]:
        """Store an agent's message (once per client id) in a conversation they hold."""
        async with self.write() as connection:
            row = await self._owned(connection, handoff_id, agent_id)
            message = await self._add_message(
                connection,
                row.conversation_id,
                "agent",
                text,
                agent_id=agent_id,
                client_id=client_id,
            )
            if row.first_response_at is None:
                await connection.execute(
                    handoffs.update()
                    .where(handoffs.c.id == handoff_id)
                    .values(first_response_at=self.clock())
                )
            return message

    async def close(self, handoff_id: int, agent_id: int, to_state: str, system_text: str) -> None:
        """Resolve, return to the bot or abandon a handoff this agent holds."""
        async with self.write() as connection:
            row = await self._owned(connection, handoff_id, agent_id)
            await connection.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id)
                .values(state=to_state, closed_at=self.clock())
            )
            await self._add_message(connection, row.conversation_id, "system", system_text)
            await self._audit(
                connection, handoff_id, f"agent:{agent_id}", to_state, "assigned", to_state
            )

    async def check_owned(self, handoff_id: int, agent_id: int) -> Row:
        """The handoff if this agent holds it, read without a lock (before calling Rasa)."""
        async with self.read() as connection:
            return await self._owned(connection, handoff_id, agent_id, lock=False)

    async def reassign(self, handoff_id: int, agent_id: int, to_agent: int | None) -> None:
        """Pass a held handoff to another agent (within their capacity) or back to the queue."""
        async with self.write() as connection:
            row = await self._owned(connection, handoff_id, agent_id)
            values: dict[str, Any] = {"state": "queued", "agent_id": None, "assigned_at": None}
            text = "The chat went back to the queue for the next person."
            if to_agent is not None:
                target = await self._lock_agent(connection, to_agent)
                if await self._active_count(connection, to_agent) >= target.capacity:
                    raise Conflict("at_capacity", f"{target.name} has no free seat right now.")
                # assigned_at stays: the customer stopped waiting at the first claim
                values = {"agent_id": to_agent}
                text = f"{target.name} took over the chat."
            await connection.execute(
                handoffs.update().where(handoffs.c.id == handoff_id).values(**values)
            )
            await self._add_message(connection, row.conversation_id, "system", text)
            await self._audit(
                connection,
                handoff_id,
                f"agent:{agent_id}",
                "reassigned",
                "assigned",
                values.get("state", "assigned"),
                {"to_agent": to_agent},
            )

    # --- customers waiting, leaving, rating ----------------------------------------

    async def go_offline(self, conversation_id: str, email: str) -> int:
        """The customer left an email: the waiting handoff becomes an offline ticket."""
        async with self.write() as connection:
            handoff_id = await self._open_handoff(connection, conversation_id)
            row = handoff_id and await self._handoff(connection, handoff_id, lock=True)
            if not row or row.state not in WAITING:
                raise Conflict("not_waiting", "This conversation is not waiting for a person.")
            customer_id = await self._customer_of(connection, conversation_id)
            await connection.execute(
                customers.update().where(customers.c.id == customer_id).values(email=email)
            )
            await connection.execute(
                handoffs.update().where(handoffs.c.id == row.id).values(state="offline")
            )
            text = "We'll reply by email; the first person to come online will see this chat."
            await self._add_message(connection, conversation_id, "system", text)
            await self._audit(connection, row.id, "customer", "offline", row.state, "offline")
            return int(row.id)

    async def abandon(self, conversation_id: str) -> int | None:
        """The customer left: an open handoff is closed as abandoned."""
        async with self.write() as connection:
            handoff_id = await self._open_handoff(connection, conversation_id)
            if handoff_id is None:
                return None
            row = await self._handoff(connection, handoff_id, lock=True)
            await connection.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id)
                .values(state="abandoned", closed_at=self.clock())
            )
            await self._add_message(connection, conversation_id, "system", "The customer left.")
            await self._audit(
                connection, handoff_id, "customer", "abandoned", row.state, "abandoned"
            )
            return handoff_id

    async def _customer_of(self, connection: AsyncConnection, conversation_id: str) -> int:
        query = select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
        return int((await connection.execute(query)).scalar_one())

    # --- messages ------------------------------------------------------------------

    async def customer_message(
        self, conversation_id: str, text: str, client_id: str | None
    ) -> dict[str, Any]:
        """Store a customer's message once per client id: a resend returns the first copy.

        A new message also says whether the bot should answer it (``bot_answers``: no
        handoff is open), read in the same transaction.
        """
        async with self.write() as connection:
            message = await self._add_message(
                connection, conversation_id, "customer", text, client_id=client_id
            )
            if not message["duplicate"]:
                open_now = await self._open_handoff(connection, conversation_id)
                message["bot_answers"] = open_now is None
            return message

    async def _add_message(
        self,
        connection: AsyncConnection,
        conversation_id: str,
        speaker: str,
        text: str,
        *,
        client_id: str | None = None,
        agent_id: int | None = None,
        intent: str | None = None,
        confidence: float | None = None,
        sentiment: float | None = None,
        buttons: list[dict[str, str]] | None = None,
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        await self._lock_conversation(connection, conversation_id)
        if client_id is not None:
            query = select(messages).where(
                messages.c.conversation_id == conversation_id, messages.c.client_id == client_id
            )
            if (twin := (await connection.execute(query)).first()) is not None:
                return {**message_dict(twin), "duplicate": True}
        last = select(func.max(messages.c.seq)).where(messages.c.conversation_id == conversation_id)
        seq = ((await connection.execute(last)).scalar() or 0) + 1
        values = {
            "conversation_id": conversation_id,
            "seq": seq,
            "speaker": speaker,
            "agent_id": agent_id,
            "text": redact(text),
            "client_id": client_id,
            "intent": intent,
            "confidence": confidence,
            "sentiment": sentiment,
            "payload": {"buttons": buttons} if buttons else None,
            "created_at": at or self.clock(),
        }
        await connection.execute(messages.insert().values(**values))
        message = message_dict(values)
        _STORED.get().append((conversation_id, message))
        return {**message, "duplicate": False}

    async def say(
        self,
        conversation_id: str,
        speaker: str,
        text: str,
        buttons: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Store a message from the bot or the service itself (``system``)."""
        async with self.write() as connection:
            return await self._add_message(
                connection, conversation_id, speaker, text, buttons=buttons
            )

    async def open_handoff(self, conversation_id: str) -> Row | None:
        """The handoff that owns the conversation now (waiting or with an agent), if any."""
        async with self.read() as connection:
            found = await self._open_handoff(connection, conversation_id)
            return None if found is None else await self._handoff(connection, found)

    async def latest_seq(self, conversation_id: str) -> int:
        query = select(func.coalesce(func.max(messages.c.seq), 0)).where(
            messages.c.conversation_id == conversation_id
        )
        async with self.read() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def held_by(self, agent_id: int) -> list[tuple[int, str, int]]:
        """``(handoff_id, conversation_id, latest seq)`` for each chat the agent holds."""
        latest = (
            select(func.coalesce(func.max(messages.c.seq), 0))
            .where(messages.c.conversation_id == handoffs.c.conversation_id)
            .scalar_subquery()
        )
        query = select(handoffs.c.id, handoffs.c.conversation_id, latest.label("seq")).where(
            handoffs.c.agent_id == agent_id, handoffs.c.state == "assigned"
        )
        async with self.read() as connection:
            rows = (await connection.execute(query)).all()
        return [(r.id, r.conversation_id, int(r.seq)) for r in rows]

    async def _has_messages(self, connection: AsyncConnection, conversation_id: str) -> bool:
        query = select(messages.c.id).where(messages.c.conversation_id == conversation_id)
        return (await connection.execute(query.limit(1))).first() is not None

    async def messages(self, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
        async with self.read() as connection:
            return await self._messages(connection, conversation_id, after)

    async def _messages(
        self, connection: AsyncConnection, conversation_id: str, after: int = 0
    ) -> list[dict[str, Any]]:
        query = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id, messages.c.seq > after)
            .order_by(messages.c.seq)
        )
        return [message_dict(r) for r in (await connection.execute(query)).all()]

    async def unanswered(self, since: dt.datetime) -> list[tuple[str, int, str]]:
        """``(conversation_id, seq, text)`` for each conversation whose latest message,
        stored since ``since``, is the customer's: nobody has answered it yet."""
        latest = (
            select(messages.c.conversation_id, func.max(messages.c.seq).label("seq"))
            .where(messages.c.created_at >= since)
            .group_by(messages.c.conversation_id)
            .subquery()
        )
        query = (
            select(messages.c.conversation_id, messages.c.seq, messages.c.text)
            .join(
                latest,
                and_(
                    messages.c.conversation_id == latest.c.conversation_id,
                    messages.c.seq == latest.c.seq,
                ),
            )
            .where(messages.c.speaker == "customer")
            .order_by(messages.c.created_at)
        )
        async with self.read() as connection:
            rows = (await connection.execute(query)).all()
        return [(r.conversation_id, r.seq, r.text) for r in rows]

    # --- what an agent sees about one handoff --------------------------------------

    async def detail(self, handoff_id: int) -> dict[str, Any]:
        """Everything at a glance: reason, summary, trail, transcript, notes, history."""
        estimate = await self.estimate(handoff_id)
        async with self.read() as connection:
            row = await self._handoff(connection, handoff_id)
            said = await self._messages(connection, row.conversation_id)
            note_rows = (
                await connection.execute(
                    select(notes.c.id, notes.c.text, notes.c.created_at, agents.c.name)
                    .join(agents, agents.c.id == notes.c.agent_id)
                    .where(notes.c.handoff_id == handoff_id)
                    .order_by(notes.c.id)
                )
            ).all()
        return {
            **queue_entry(row, self.clock()),
            **estimate.as_dict(),
            "agent_id": row.agent_id,
            "reason": row.reason,
            "score_trail": row.score_trail,
            "transcript": row.transcript,
            "assigned_at": iso(row.assigned_at),
            "closed_at": iso(row.closed_at),
            "messages": said,
            "notes": [
                {"id": n.id, "text": n.text, "agent": n.name, "created_at": iso(n.created_at)}
                for n in note_rows
            ],
        }

    async def add_note(self, handoff_id: int, agent_id: int, text: str) -> int:
        async with self.write() as connection:
            await self._handoff(connection, handoff_id)
            result = await connection.execute(
                notes.insert().values(
                    handoff_id=handoff_id, agent_id=agent_id, text=text, created_at=self.clock()
                )
            )
            return int(result.inserted_primary_key[0])

    async def history(self, handoff_id: int) -> list[dict[str, Any]]:
        """The same customer's other conversations, newest first, with how each ended."""
        row = await self.handoff(handoff_id)
        async with self.read() as connection:
            customer_id = await self._customer_of(connection, row.conversation_id)
            count = (
                select(func.count())
                .where(messages.c.conversation_id == conversations.c.id)
                .scalar_subquery()
            )
            earlier = (
                await connection.execute(
                    select(conversations.c.id, conversations.c.created_at, count.label("n"))
                    .where(conversations.c.customer_id == customer_id)
                    .where(conversations.c.id != row.conversation_id)
                    .order_by(conversations.c.created_at.desc())
                    .limit(20)
                )
            ).all()
            ids = [c.id for c in earlier]
            their_handoffs = (
                await connection.execute(
                    select(
                        handoffs.c.conversation_id,
                        handoffs.c.state,
                        handoffs.c.trigger,
                        handoffs.c.summary,
                    )
                    .where(handoffs.c.conversation_id.in_(ids))
                    .order_by(handoffs.c.id)
                )
            ).all()
        by_conversation: dict[str, list[dict[str, Any]]] = {}
        for h in their_handoffs:
            by_conversation.setdefault(h.conversation_id, []).append(
                {"state": h.state, "trigger": h.trigger, "summary": h.summary}
            )
        return [
            {
                "conversation_id": c.id,
                "started_at": iso(c.created_at),
                "messages": c.n,
                "handoffs": by_conversation.get(c.id, []),
            }
            for c in earlier
        ]

    # --- audit ---------------------------------------------------------------------

    async def _audit(
        self,
        connection: AsyncConnection,
        handoff_id: int | None,
        actor: str,
        action: str,
        from_state: str | None,
        to_state: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await connection.execute(
            audit_log.insert().values(
                handoff_id=handoff_id,
                actor=actor,
                action=action,
                from_state=from_state,
                to_state=to_state,
                detail=detail,
                created_at=self.clock(),
            )
        )

    async def audit_trail(self, handoff_id: int) -> list[dict[str, Any]]:
        async with self.read() as connection:
            rows = (
                await connection.execute(
                    select(audit_log)
                    .where(audit_log.c.handoff_id == handoff_id)
                    .order_by(audit_log.c.id)
                )
            ).all()
        return [
            {
                "actor": r.actor,
                "action": r.action,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "at": iso(r.created_at),
            }
            for r in rows
        ]


def chats_held() -> Any:
    """Per row of ``agents``: how many chats the agent holds now."""
    return (
        select(func.count())
        .where(handoffs.c.agent_id == agents.c.id, handoffs.c.state == "assigned")
        .scalar_subquery()
    )


def signed_in(now: dt.datetime) -> Any:
    """Per row of ``agents``: whether the agent holds a token that has not expired."""
    return (
        select(agent_tokens.c.agent_id)
        .where(agent_tokens.c.agent_id == agents.c.id, agent_tokens.c.expires_at > now)
        .exists()
    )


def positions(rows: list[Row]) -> list[int | None]:
    """Each waiting handoff's place in line (in ``WAITING_ORDER``); offline tickets have none."""
    found, position = [], 0
    for row in rows:
        position += row.state == "queued"
        found.append(position if row.state == "queued" else None)
    return found


def wait_s(position: int, available: list[Row], handle_s: float) -> int:
    """Customers ahead beyond the free seats, served at the agents' recent pace."""
    free = sum(max(a.capacity - a.active, 0) for a in available)
    seats = sum(a.capacity for a in available)
    if position <= free:
        return 0
    return int(math.ceil((position - free) / max(seats, 1)) * handle_s)


def queue_entry(row: Row, now: dt.datetime) -> dict[str, Any]:
    """The queue's view of a handoff: what an agent needs to pick the next one."""
    last = row.score_trail[-1] if row.score_trail else {}
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "state": row.state,
        "trigger": row.trigger,
        "priority": row.priority,
        "summary": row.summary,
        "sentiment": last.get("sentiment"),
        "mood": last.get("level") or None,
        "created_at": iso(row.created_at),
        "waiting_s": int((now - row.created_at).total_seconds()),
    }


def message_dict(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {
        "seq": get("seq"),
        "speaker": get("speaker"),
        "text": get("text"),
        "buttons": (get("payload") or {}).get("buttons", []),
        "client_id": get("client_id"),
        "intent": get("intent"),
        "confidence": get("confidence"),
        "sentiment": get("sentiment"),
        "created_at": iso(get("created_at")),
    }


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed
