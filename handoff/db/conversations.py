"""Customers, their conversations and messages: stored once, in sequence, redacted."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.auth import digest, new_token
from handoff.db.tables import (
    conversations,
    customers,
    handoffs,
    messages,
)
from handoff.db.unit import Unit, iso
from handoff.errors import NotFound
from handoff.redact import redact

OPEN = ("queued", "assigned", "offline")


class Conversations(Unit):
    """Sessions, messages and which handoff owns a conversation now."""

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

    async def _customer_of(self, connection: AsyncConnection, conversation_id: str) -> int:
        query = select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
        return int((await connection.execute(query)).scalar_one())

    async def _open_handoff(self, connection: AsyncConnection, conversation_id: str) -> int | None:
        query = select(handoffs.c.id).where(
            handoffs.c.conversation_id == conversation_id, handoffs.c.state.in_(OPEN)
        )
        return (await connection.execute(query)).scalar()

    async def _handoff(
        self, connection: AsyncConnection, handoff_id: int, lock: bool = False
    ) -> Row:
        query = select(handoffs).where(handoffs.c.id == handoff_id)
        row = (await connection.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            raise NotFound("handoff")
        return row

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
        answer: dict[str, str] | None = None,
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Store a message, redacted, as the next in sequence; a resend returns the first."""
        await self._lock_conversation(connection, conversation_id)
        if client_id is not None and (
            twin := await self._twin(connection, conversation_id, client_id)
        ):
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
            "payload": _payload(buttons, answer),
            "created_at": at or self.clock(),
        }
        await connection.execute(messages.insert().values(**values))
        message = message_dict(values)
        self.after_commit(conversation_id, message)
        return {**message, "duplicate": False}

    async def _twin(
        self, connection: AsyncConnection, conversation_id: str, client_id: str
    ) -> Row | None:
        query = select(messages).where(
            messages.c.conversation_id == conversation_id, messages.c.client_id == client_id
        )
        return (await connection.execute(query)).first()

    async def say(
        self,
        conversation_id: str,
        speaker: str,
        text: str,
        buttons: list[dict[str, str]] | None = None,
        answer: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Store a message from the bot or the service itself (``system``); ``answer``
        says which FAQ or article a bot message answered with (the customer may rate it)."""
        async with self.write() as connection:
            return await self._add_message(
                connection, conversation_id, speaker, text, buttons=buttons, answer=answer
            )

    async def latest_seq(self, conversation_id: str) -> int:
        query = select(func.coalesce(func.max(messages.c.seq), 0)).where(
            messages.c.conversation_id == conversation_id
        )
        async with self.read() as connection:
            return int((await connection.execute(query)).scalar_one())

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


def _payload(
    buttons: list[dict[str, str]] | None, answer: dict[str, str] | None
) -> dict[str, Any] | None:
    payload = {"buttons": buttons or None, "answer": answer}
    return {key: value for key, value in payload.items() if value} or None


def message_dict(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {
        "seq": get("seq"),
        "speaker": get("speaker"),
        "text": get("text"),
        "buttons": (get("payload") or {}).get("buttons", []),
        # A bot message that answered with an FAQ or article: the widget offers 👍/👎.
        "rateable": bool((get("payload") or {}).get("answer")),
        "client_id": get("client_id"),
        "intent": get("intent"),
        "confidence": get("confidence"),
        "sentiment": get("sentiment"),
        "created_at": iso(get("created_at")),
    }
