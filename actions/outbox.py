"""A durable outbox for escalations: written before delivery, retried until delivered.

Every escalation record is stored here first (SQLite by default, ``OUTBOX_DATABASE_URL``),
keyed by its idempotency key, so a crash or an unreachable handoff service loses nothing.
An escalation posts its own record once (``deliver``) and moves on; retrying whatever is
still waiting (``deliver_pending``) is the job of the relay alone: ``drain --every``, started
by ``make run``, delivers records as soon as the handoff service answers. Records go to
``HANDOFF_URL``, authenticated with ``HANDOFF_SERVICE_TOKEN`` (both read once, through
:mod:`actions.settings`); the service keeps one handoff per key, so delivering twice is
harmless.

    python -m actions.outbox status            # how many escalations wait
    python -m actions.outbox drain             # try to deliver them now
    python -m actions.outbox drain --every 5   # keep trying every 5 seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

from actions.settings import settings

logger = logging.getLogger(__name__)
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

    def get(self, key: str) -> Pending:
        with self._session() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.key == key)).one()
            return Pending(row.key, json.loads(row.payload), row.attempts)

    async def deliver_pending(
        self, handoff_url: str | None, token: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Post every pending record; the service's answers, by key, for those delivered.

        The relay's job (``drain``): each unreachable record costs up to
        ``DELIVERY_TIMEOUT_S``, so an escalation never calls this inline."""
        return await self._deliver(self.pending(), handoff_url, token)

    async def deliver(
        self, key: str, handoff_url: str | None, token: str | None = None
    ) -> dict[str, Any] | None:
        """Post one record now, once, even if delivered before: the service answers a
        repeat with the same handoff and its current place in the queue. None when it was
        not delivered (the attempt is recorded; the relay retries it)."""
        return (await self._deliver([self.get(key)], handoff_url, token)).get(key)

    async def _deliver(
        self, items: list[Pending], handoff_url: str | None, token: str | None
    ) -> dict[str, dict[str, Any]]:
        if not handoff_url or not items:
            return {}
        token = token if token is not None else settings().handoff_service_token
        answers = {}
        timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for item in items:
                answer, error = await _post(http, handoff_url, token, item)
                self.mark(item.key, error)
                if answer is not None:
                    answers[item.key] = answer
        return answers


async def _post(
    http: aiohttp.ClientSession, base_url: str, token: str, item: Pending
) -> tuple[dict[str, Any] | None, str | None]:
    """POST one record: the service's answer, or the error to keep for the next try."""
    headers = {"Idempotency-Key": item.key, "Authorization": f"Bearer {token}"}
    try:
        async with http.post(
            f"{base_url.rstrip('/')}/handoffs", json=item.payload, headers=headers
        ) as response:
            if response.status < 300:
                return await response.json(), None
            return None, f"HTTP {response.status}: {(await response.text())[:200]}"
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=4)
def get_outbox(url: str | None = None) -> Outbox:
    """The shared outbox for ``url`` (default: the settings' ``OUTBOX_DATABASE_URL``)."""
    return Outbox(url or settings().outbox_database_url)


async def drain_forever(outbox: Outbox, url: str, every_s: float, token: str | None = None) -> None:
    """Deliver whatever waits, every ``every_s`` seconds, until stopped."""
    while True:
        try:
            delivered = await outbox.deliver_pending(url, token)
        except Exception:  # a broken database file must not stop the loop for good
            logger.exception("outbox delivery failed")
            delivered = {}
        if delivered:
            print(f"Delivered {len(delivered)} escalation(s) to {url}", flush=True)
        await asyncio.sleep(every_s)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.outbox")
    parser.add_argument("command", choices=["status", "drain"])
    parser.add_argument("--every", type=float, help="drain: keep trying every N seconds")
    args = parser.parse_args(argv)
    config = settings()
    outbox = get_outbox(config.outbox_database_url)
    if args.command == "status":
        print(f"{len(outbox.pending())} escalation(s) waiting for the handoff service")
        return 0
    url, token = config.handoff_url, config.handoff_service_token
    if not url:
        print("HANDOFF_URL is not set: nothing to deliver to", file=sys.stderr)
        return 2
    if args.every:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
            asyncio.run(drain_forever(outbox, url, args.every, token))
        return 0
    delivered = asyncio.run(outbox.deliver_pending(url, token))
    print(f"Delivered {len(delivered)} escalation(s); {len(outbox.pending())} still waiting")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
