"""The unit of work: read and write transactions, the clock, post-commit hooks, audit.

SQLite allows one writer at a time, so on SQLite the writes of this process take turns
behind one lock; on PostgreSQL, row locks (``FOR UPDATE``) keep claims atomic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handoff.db.tables import (
    audit_log,
)
from handoff.settings import Settings

# The messages a write transaction stored, announced after it commits.
_STORED: ContextVar[list[tuple[str, dict[str, Any]]]] = ContextVar("stored_messages")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


def parse_time(value: Any) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


class Unit:
    """Transactions over one engine, with the clock every room reads (tests move it)."""

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

    def after_commit(self, conversation_id: str, message: dict[str, Any]) -> None:
        """Announce a message this write transaction stored, once the transaction commits."""
        _STORED.get().append((conversation_id, message))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            yield connection

    async def audit(
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
