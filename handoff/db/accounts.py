"""Agents and their tokens, canned responses and CSAT answers.

Every account has a role: ``agent`` takes chats, ``editor`` works in the studio, ``lead``
does both. A token opens only what its role may use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from handoff.auth import digest, hash_password, new_token, password_matches
from handoff.db import Store
from handoff.db.queue import chats_held, signed_in
from handoff.db.tables import agent_tokens, agents, canned_responses, csat
from handoff.db.unit import iso
from handoff.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from handoff.redact import redact

ROLES = ("agent", "editor", "lead")
CHAT_ROLES = frozenset({"agent", "lead"})
STUDIO_ROLES = frozenset({"editor", "lead"})

# Verifying against this when the name is unknown makes both failures take as long.
_DECOY_HASH = hash_password("not a password anyone has")


class Accounts:
    """The agents' side of the data: who they are, whether they are signed in and free."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add_agent(
        self, name: str, password: str, capacity: int = 3, role: str = "agent"
    ) -> int:
        if role not in ROLES:
            raise BadRequest("unknown_role", f"A role is one of {', '.join(ROLES)}.")
        try:
            async with self.store.write() as connection:
                result = await connection.execute(
                    agents.insert().values(
                        name=name,
                        password_hash=hash_password(password),
                        capacity=capacity,
                        available=False,
                        role=role,
                        created_at=self.store.clock(),
                    )
                )
        except IntegrityError:
            raise Conflict("name_taken", f"There is already an agent called {name!r}.") from None
        return int(result.inserted_primary_key[0])

    async def count_agents(self) -> int:
        async with self.store.read() as connection:
            return len((await connection.execute(select(agents.c.id))).all())

    async def login(self, name: str, password: str) -> tuple[str, dt.datetime, Row]:
        """A fresh token for a correct name and password: ``(token, expires_at, agent)``."""
        async with self.store.read() as connection:
            query = select(agents).where(agents.c.name == name)
            agent = (await connection.execute(query)).first()
        # An unknown name is checked against a decoy, so both take the same time.
        matches = password_matches(agent.password_hash if agent else _DECOY_HASH, password)
        if agent is None or not matches:
            raise Unauthorized("bad_credentials", "Wrong name or password.")
        token = new_token()
        expires = self.store.clock() + dt.timedelta(seconds=self.store.settings.agent_token_ttl_s)
        async with self.store.write() as connection:
            await connection.execute(
                agent_tokens.delete().where(agent_tokens.c.expires_at <= self.store.clock())
            )
            await connection.execute(
                agent_tokens.insert().values(
                    token_hash=digest(token), agent_id=agent.id, expires_at=expires
                )
            )
        return token, expires, agent

    async def agent_for_token(self, token: str, roles: frozenset[str] = CHAT_ROLES) -> Row:
        """The account a token belongs to; 401 if unknown or expired, 403 if its role
        may not use what ``roles`` opens (by default: taking chats)."""
        async with self.store.read() as connection:
            query = (
                select(agents, agent_tokens.c.expires_at)
                .join(agent_tokens, agent_tokens.c.agent_id == agents.c.id)
                .where(agent_tokens.c.token_hash == digest(token))
            )
            row = (await connection.execute(query)).first()
        if row is None:
            raise Unauthorized("invalid_token", "This token is not valid; log in again.")
        if row.expires_at <= self.store.clock():
            raise Unauthorized("token_expired", "Your session has expired; log in again.")
        if row.role not in roles:
            raise Forbidden("wrong_role", WRONG_ROLE[row.role])
        return row

    async def logout(self, token: str) -> None:
        async with self.store.write() as connection:
            await connection.execute(
                delete(agent_tokens).where(agent_tokens.c.token_hash == digest(token))
            )

    async def set_available(self, agent_id: int, available: bool) -> None:
        async with self.store.write() as connection:
            await connection.execute(
                agents.update().where(agents.c.id == agent_id).values(available=available)
            )
            await self.store.audit(
                connection,
                None,
                f"agent:{agent_id}",
                "available" if available else "away",
                None,
                None,
            )

    async def agent(self, agent_id: int) -> dict[str, Any]:
        async with self.store.read() as connection:
            row = (await connection.execute(select(agents).where(agents.c.id == agent_id))).first()
        if row is None:
            raise NotFound("agent")
        return agent_dict(row)

    async def agent_list(self) -> list[dict[str, Any]]:
        """Every agent, with how many chats they hold and whether they are signed in now
        (``available`` means "taking chats" only while they are)."""
        query = select(
            agents,
            chats_held().label("holding"),
            signed_in(self.store.clock()).label("signed_in"),
        )
        async with self.store.read() as connection:
            rows = (await connection.execute(query.order_by(agents.c.name))).all()
        return [
            {**agent_dict(r), "holding": int(r.holding), "signed_in": bool(r.signed_in)}
            for r in rows
        ]

    # --- canned responses ----------------------------------------------------------

    async def canned(self) -> list[dict[str, Any]]:
        async with self.store.read() as connection:
            query = select(canned_responses).order_by(canned_responses.c.shortcut)
            rows = (await connection.execute(query)).all()
        return [{"id": r.id, "shortcut": r.shortcut, "text": r.text} for r in rows]

    async def add_canned(self, shortcut: str, text: str) -> int:
        try:
            async with self.store.write() as connection:
                result = await connection.execute(
                    canned_responses.insert().values(shortcut=shortcut, text=text)
                )
        except IntegrityError:
            raise Conflict("shortcut_taken", f"The shortcut {shortcut!r} is taken.") from None
        return int(result.inserted_primary_key[0])

    # --- CSAT ----------------------------------------------------------------------

    async def rate(self, conversation_id: str, rating: int, comment: str | None) -> None:
        """One rating per conversation, tied to its latest handoff if it had one."""
        latest = await self.store.latest_handoff(conversation_id)
        try:
            async with self.store.write() as connection:
                await connection.execute(
                    csat.insert().values(
                        conversation_id=conversation_id,
                        handoff_id=latest.id if latest else None,
                        rating=rating,
                        comment=redact(comment) if comment else None,
                        created_at=self.store.clock(),
                    )
                )
        except IntegrityError:
            raise Conflict("already_rated", "This conversation has been rated already.") from None


WRONG_ROLE = {
    "editor": "Editors work in the studio (/studio); taking chats needs an agent or lead.",
    "agent": "The studio is for editors and leads; ask a lead to give you the editor role.",
    "lead": "Leads may use both the console and the studio.",
}


def agent_dict(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "capacity": row.capacity,
        "available": row.available,
        "created_at": iso(row.created_at),
    }
