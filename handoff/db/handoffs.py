"""A handoff's life: ``queued → assigned → resolved | returned | abandoned``.

A queued one becomes an ``offline`` ticket when nobody can answer and the customer leaves
an email, and waits for the first agent to claim it. Every change is written to the audit
log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import triggers
from handoff.db.queue import WAITING, Queue
from handoff.db.tables import (
    agents,
    customers,
    handoffs,
    messages,
    notes,
)
from handoff.db.unit import parse_time
from handoff.errors import Conflict, Forbidden, NotFound
from handoff.redact import redact

# Strong anger and sensitive topics first; a plain request next; not understood last.
PRIORITY = {
    triggers.SENSITIVE: 3,
    triggers.STRONG_NEGATIVE: 3,
    triggers.NEGATIVE_TREND: 2,
    triggers.EXPLICIT: 2,
    triggers.LOW_CONFIDENCE: 1,
}

REASON_TEXT = {
    triggers.EXPLICIT: "the customer asked for a person",
    triggers.SENSITIVE: "a topic that always goes to a person",
    triggers.STRONG_NEGATIVE: "the customer sounded very upset",
    triggers.NEGATIVE_TREND: "the customer stayed unhappy",
    triggers.LOW_CONFIDENCE: "the assistant did not understand",
}


class Handoffs(Queue):
    """Escalations created once per key, claimed once, answered and closed by their agent."""

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
            await self.audit(connection, handoff_id, "service", "created", None, "queued")
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
                score_trail=_redacted(record.get("score_trail", [])),
                transcript=_redacted(record.get("transcript", [])),
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
                at=parse_time(line.get("time")) or self.clock(),
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

    async def handoff(self, handoff_id: int) -> Row:
        async with self.read() as connection:
            return await self._handoff(connection, handoff_id)

    async def latest_handoff(self, conversation_id: str) -> Row | None:
        async with self.read() as connection:
            query = (
                select(handoffs)
                .where(handoffs.c.conversation_id == conversation_id)
                .order_by(handoffs.c.id.desc())
                .limit(1)
            )
            return (await connection.execute(query)).first()

    async def open_handoff(self, conversation_id: str) -> Row | None:
        """The handoff that owns the conversation now (waiting or with an agent), if any."""
        async with self.read() as connection:
            found = await self._open_handoff(connection, conversation_id)
            return None if found is None else await self._handoff(connection, found)

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
            await self.audit(
                connection, handoff_id, f"agent:{agent_id}", "claimed", None, "assigned"
            )
            return handoff_id

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
            await self.audit(
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
            await self.audit(
                connection,
                handoff_id,
                f"agent:{agent_id}",
                "reassigned",
                "assigned",
                values.get("state", "assigned"),
                {"to_agent": to_agent},
            )

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
            await self.audit(connection, row.id, "customer", "offline", row.state, "offline")
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
            await self.audit(
                connection, handoff_id, "customer", "abandoned", row.state, "abandoned"
            )
            return handoff_id

    async def add_note(self, handoff_id: int, agent_id: int, text: str) -> int:
        async with self.write() as connection:
            await self._handoff(connection, handoff_id)
            result = await connection.execute(
                notes.insert().values(
                    handoff_id=handoff_id, agent_id=agent_id, text=text, created_at=self.clock()
                )
            )
            return int(result.inserted_primary_key[0])


def _redacted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcript lines or score-trail turns with their text redacted, as messages are."""
    return [
        {**line, "text": redact(str(line["text"]))} if "text" in line else line for line in lines
    ]
