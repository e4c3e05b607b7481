"""What the console reads: a handoff at a glance, the queue's entries, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.db.handoffs import Handoffs
from handoff.db.queue import WAITING, WAITING_ORDER, positions
from handoff.db.tables import (
    agents,
    audit_log,
    conversations,
    handoffs,
    messages,
    notes,
)
from handoff.db.unit import iso


class ReadModels(Handoffs):
    """Reads shaped for the agents' screens."""

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

    async def history(self, handoff_id: int) -> list[dict[str, Any]]:
        """The same customer's other conversations, newest first, with how each ended."""
        row = await self.handoff(handoff_id)
        async with self.read() as connection:
            customer_id = await self._customer_of(connection, row.conversation_id)
            earlier = await self._earlier(connection, customer_id, row.conversation_id)
            ended = await self._endings(connection, [c.id for c in earlier])
        return [
            {
                "conversation_id": c.id,
                "started_at": iso(c.created_at),
                "messages": c.n,
                "handoffs": ended.get(c.id, []),
            }
            for c in earlier
        ]

    async def _earlier(
        self, connection: AsyncConnection, customer_id: int, this_one: str
    ) -> list[Row]:
        """The customer's 20 latest conversations but this one, with their message counts."""
        count = (
            select(func.count())
            .where(messages.c.conversation_id == conversations.c.id)
            .scalar_subquery()
        )
        query = (
            select(conversations.c.id, conversations.c.created_at, count.label("n"))
            .where(conversations.c.customer_id == customer_id, conversations.c.id != this_one)
            .order_by(conversations.c.created_at.desc())
            .limit(20)
        )
        return list((await connection.execute(query)).all())

    async def _endings(
        self, connection: AsyncConnection, conversation_ids: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """How each conversation's handoffs went, oldest first, by conversation."""
        query = (
            select(handoffs.c.conversation_id, handoffs.c.state, handoffs.c.trigger)
            .add_columns(handoffs.c.summary)
            .where(handoffs.c.conversation_id.in_(conversation_ids))
            .order_by(handoffs.c.id)
        )
        ended: dict[str, list[dict[str, Any]]] = {}
        for h in (await connection.execute(query)).all():
            ended.setdefault(h.conversation_id, []).append(
                {"state": h.state, "trigger": h.trigger, "summary": h.summary}
            )
        return ended

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
