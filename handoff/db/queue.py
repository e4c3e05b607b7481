"""The queue: one order for everyone waiting, places in line and expected waits."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.db.conversations import Conversations
from handoff.db.tables import (
    agent_tokens,
    agents,
    handoffs,
)
from handoff.errors import NotFound

WAITING = ("queued", "offline")
# The order agents take waiting handoffs in: live customers before offline tickets, then
# by rank (creation time moved earlier by priority), then first come first served.
WAITING_ORDER = (
    case((handoffs.c.state == "offline", 1), else_=0),
    handoffs.c.rank_at,
    handoffs.c.id,
)


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


class Queue(Conversations):
    """Who waits, in which order, and how long they can expect to wait."""

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
