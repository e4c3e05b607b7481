"""A durable outbox for escalations: written before delivery, retried until delivered.

Every escalation record is stored here first (SQLite by default, ``OUTBOX_DATABASE_URL``),
keyed by its idempotency key, so a crash or an unreachable handoff service loses nothing.
``deliver_pending`` posts undelivered records to the handoff service (``HANDOFF_URL``);
until that service runs, records simply wait here.

    python -m actions.outbox status    # how many escalations wait
    python -m actions.outbox drain     # try to deliver them now
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aiohttp
from sqlalchemy import Column, DateTime, Integer, String, Text, create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

logger = logging.getLogger(__name__)
DEFAULT_URL = "sqlite:///var/outbox.db"
DELIVERY_TIMEOUT_S = 3.0

Base: Any = declarative_base()  # SQLAlchemy 1.4 has no typed declarative base


class OutboxRow(Base):
    __tablename__ = "escalation_outbox"

    id = Column(Integer, primary_key=True)
    key = Column(String(200), unique=True, nullable=False)
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(500))
    delivered_at = Column(DateTime)


@dataclass(frozen=True)
class Pending:
    """An escalation that has not reached the handoff service yet."""

    key: str
    payload: dict[str, Any]
    attempts: int


class Outbox:
    """Stores escalation records and delivers them at least once, idempotently."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
        self.engine = create_engine(url, future=True)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, future=True)

    def add(self, key: str, payload: dict[str, Any]) -> bool:
        """Store a record; False if one with this key is already there."""
        row = OutboxRow(key=key, payload=json.dumps(payload), created_at=_now(), attempts=0)
        try:
            with self._session.begin() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    def pending(self) -> list[Pending]:
        with self._session() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.delivered_at.is_(None)).order_by(OutboxRow.id)
            ).all()
            return [Pending(r.key, json.loads(r.payload), r.attempts) for r in rows]

    def mark(self, key: str, error: str | None) -> None:
        """Record a delivery attempt: delivered when ``error`` is None."""
        with self._session.begin() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.key == key)).one()
            row.attempts += 1
            row.last_error = error[:500] if error else None
            if error is None:
                row.delivered_at = _now()

    async def deliver_pending(self, handoff_url: str | None) -> int:
        """Post every pending record; return how many were delivered."""
        if not handoff_url:
            return 0
        delivered = 0
        timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for item in self.pending():
                error = await _post(http, handoff_url, item)
                self.mark(item.key, error)
                delivered += error is None
        return delivered


async def _post(http: aiohttp.ClientSession, base_url: str, item: Pending) -> str | None:
    """POST one record; None on success, else the error to keep for the next try."""
    try:
        async with http.post(
            f"{base_url.rstrip('/')}/handoffs",
            json=item.payload,
            headers={"Idempotency-Key": item.key},
        ) as response:
            if response.status < 300:
                return None
            return f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=4)
def get_outbox(url: str | None = None) -> Outbox:
    """The shared outbox for ``url`` (default: ``OUTBOX_DATABASE_URL`` or SQLite)."""
    return Outbox(url or os.environ.get("OUTBOX_DATABASE_URL", DEFAULT_URL))


def main(argv: list[str]) -> int:
    import asyncio

    outbox = get_outbox()
    if argv == ["status"]:
        print(f"{len(outbox.pending())} escalation(s) waiting for the handoff service")
        return 0
    if argv == ["drain"]:
        url = os.environ.get("HANDOFF_URL")
        if not url:
            print("HANDOFF_URL is not set: nothing to deliver to", file=sys.stderr)
            return 2
        print(f"Delivered {asyncio.run(outbox.deliver_pending(url))} escalation(s)")
        return 0
    print("usage: python -m actions.outbox status|drain", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
