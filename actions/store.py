"""The store's own order database: orders, returns and order lookups, through SQLAlchemy.

The database URL comes from ``STORE_DATABASE_URL`` (default: SQLite in ``var/store.db``).
Nothing connects at import time; :func:`get_store` builds the engine on first use.

    python -m actions.store seed     # create tables and (re)load the demo orders
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    create_engine,
    func,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import declarative_base, sessionmaker

from actions.settings import settings

RETURN_WINDOW_DAYS = 45

Base: Any = declarative_base()  # SQLAlchemy 1.4 has no typed declarative base


class StoreUnavailable(Exception):
    """The order database could not be reached or queried."""


class OrderRow(Base):
    __tablename__ = "orders"

    number = Column(String(9), primary_key=True)
    customer_name = Column(String(80), nullable=False)
    customer_email = Column(String(120), nullable=False)
    billing_postcode = Column(String(12), nullable=False)
    items = Column(String(400), nullable=False)
    placed_on = Column(Date, nullable=False)
    status = Column(String(20), nullable=False)  # processing|shipped|delivered|cancelled
    carrier = Column(String(20))
    tracking_number = Column(String(40))
    shipped_on = Column(Date)
    estimated_delivery = Column(Date)
    delivered_on = Column(Date)
    final_sale = Column(Boolean, nullable=False, default=False)


class ReturnRow(Base):
    __tablename__ = "returns"

    id = Column(Integer, primary_key=True)
    rma = Column(String(12), unique=True, nullable=False)
    order_number = Column(String(9), ForeignKey("orders.number"), nullable=False)
    reason = Column(String(500), nullable=False)
    created_on = Column(Date, nullable=False)


class LookupRow(Base):
    """One order lookup a conversation made (a number and a second factor checked)."""

    __tablename__ = "order_lookups"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    matched = Column(Boolean, nullable=False)


@dataclass(frozen=True)
class Order:
    """An order as the actions see it (detached from the database session)."""

    number: str
    customer_name: str
    customer_email: str
    billing_postcode: str
    items: str
    placed_on: dt.date
    status: str
    carrier: str | None
    tracking_number: str | None
    shipped_on: dt.date | None
    estimated_delivery: dt.date | None
    delivered_on: dt.date | None
    final_sale: bool


@dataclass(frozen=True)
class ReturnDecision:
    """Whether an order can be returned today, and why not if it can't."""

    eligible: bool
    reason: str  # eligible|not_delivered|cancelled|window_closed|final_sale|already_returned
    deadline: dt.date | None = None
    existing_rma: str | None = None


@dataclass(frozen=True)
class LookupCount:
    """A conversation's order lookups: misses ever, and all lookups since a moment."""

    misses: int
    recent: int


class Store:
    """Queries against the order database; every failure becomes StoreUnavailable."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, future=True, pool_pre_ping=True)
        self._session = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._lookups_ready = False

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def find_order(self, number: str) -> Order | None:
        """Look an order up by its normalized number."""
        try:
            with self._session() as session:
                row = session.get(OrderRow, number)
                return _to_order(row) if row else None
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def count_lookups(self, sender_id: str, since: dt.datetime) -> LookupCount:
        """How often the conversation ``sender_id`` missed, and looked up since ``since``."""
        try:
            self._ensure_lookups()
            with self._session() as session:
                mine = session.query(func.count(LookupRow.id)).filter(
                    LookupRow.sender_id == sender_id
                )
                misses = mine.filter(LookupRow.matched.is_(False)).scalar()
                recent = mine.filter(LookupRow.at >= since).scalar()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return LookupCount(misses=int(misses or 0), recent=int(recent or 0))

    def record_lookup(self, sender_id: str, matched: bool, at: dt.datetime) -> None:
        """Remember one lookup of the conversation ``sender_id`` and whether it matched."""
        try:
            self._ensure_lookups()
            with self._session.begin() as session:
                session.add(LookupRow(sender_id=sender_id[:255], at=at, matched=matched))
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def _ensure_lookups(self) -> None:
        # A database seeded before lookups were counted has no such table yet.
        if not self._lookups_ready:
            LookupRow.__table__.create(self.engine, checkfirst=True)
            self._lookups_ready = True

    def return_decision(self, order: Order, today: dt.date) -> ReturnDecision:
        """Check an order against the return policy on ``today``."""
        existing = self.find_return(order.number)
        if existing:
            return ReturnDecision(False, "already_returned", existing_rma=existing)
        if order.status == "cancelled":
            return ReturnDecision(False, "cancelled")
        if order.status != "delivered" or order.delivered_on is None:
            return ReturnDecision(False, "not_delivered")
        if order.final_sale:
            return ReturnDecision(False, "final_sale")
        deadline = order.delivered_on + dt.timedelta(days=RETURN_WINDOW_DAYS)
        if today > deadline:
            return ReturnDecision(False, "window_closed", deadline=deadline)
        return ReturnDecision(True, "eligible", deadline=deadline)

    def find_return(self, order_number: str) -> str | None:
        """The RMA of an existing return for the order, if any."""
        try:
            with self._session() as session:
                row = session.query(ReturnRow).filter_by(order_number=order_number).first()
                return row.rma if row else None
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def record_return(self, order_number: str, reason: str, today: dt.date) -> str:
        """Store a return and give back its RMA number."""
        rma = "RMA-" + secrets.token_hex(3).upper()
        try:
            with self._session.begin() as session:
                session.add(
                    ReturnRow(
                        rma=rma, order_number=order_number, reason=reason[:500], created_on=today
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return rma


def _to_order(row: OrderRow) -> Order:
    return Order(
        number=row.number,
        customer_name=row.customer_name,
        customer_email=row.customer_email,
        billing_postcode=row.billing_postcode,
        items=row.items,
        placed_on=row.placed_on,
        status=row.status,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        shipped_on=row.shipped_on,
        estimated_delivery=row.estimated_delivery,
        delivered_on=row.delivered_on,
        final_sale=bool(row.final_sale),
    )


@lru_cache(maxsize=4)
def get_store(url: str | None = None) -> Store:
    """The shared Store for ``url`` (default: the settings' ``STORE_DATABASE_URL``)."""
    return Store(url or settings().store_database_url)


def demo_orders(today: dt.date) -> list[OrderRow]:
    """Demo orders with dates relative to ``today``, one for each interesting case."""
    day = dt.timedelta(days=1)

    def order(
        number: str, name: str, postcode: str, items: str, placed: int, status: str, **kw: object
    ) -> OrderRow:
        return OrderRow(
            number=number,
            customer_name=name,
            customer_email=f"{name.split()[0].lower()}@example.com",
            billing_postcode=postcode,
            items=items,
            placed_on=today - placed * day,
            status=status,
            **kw,
        )

    return [
        order("LS-204381", "Maya Okafor", "97214", "Ridgeline 2 tent", 2, "processing"),
        order(
            "LS-117342",
            "Dan Reyes",
            "80302",
            "Summit Down Jacket (M, slate)",
            3,
            "shipped",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
            shipped_on=today - 2 * day,
            estimated_delivery=today + 2 * day,
        ),
        order(
            "LS-402219",
            "Priya Nair",
            "02139",
            "Talus Mid boots (W8.5)",
            12,
            "delivered",
            carrier="UPS",
            tracking_number="1Z999AA10123456785",
            shipped_on=today - 11 * day,
            estimated_delivery=today - 8 * day,
            delivered_on=today - 8 * day,
        ),
        order(
            "LS-310557",
            "Sam Whitfield",
            "EH1 2NG",
            "Cascade 45 backpack",
            70,
            "delivered",
            carrier="UPS",
            tracking_number="1Z999AA10123456786",
            shipped_on=today - 69 * day,
            estimated_delivery=today - 66 * day,
            delivered_on=today - 66 * day,
        ),
        order(
            "LS-551203",
            "Lena Brandt",
            "10115",
            "Drift 20 sleeping bag (final sale)",
            20,
            "delivered",
            carrier="DHL",
            tracking_number="JD014600003828391234",
            shipped_on=today - 19 * day,
            estimated_delivery=today - 10 * day,
            delivered_on=today - 10 * day,
            final_sale=True,
        ),
        order(
            "LS-882104",
            "Tom Alvarez",
            "78704",
            "Beacon 400 headlamp, Switchback poles",
            5,
            "cancelled",
        ),
        order(
            "LS-220019",
            "Grace Liu",
            "98103",
            "Squall Rain Shell (S, moss)",
            44,
            "delivered",
            carrier="USPS",
            tracking_number="9400111899223100012345",
            shipped_on=today - 43 * day,
            estimated_delivery=today - 39 * day,
            delivered_on=today - 40 * day,
        ),
        order(
            "LS-883920",
            "Omar Haddad",
            "M5V 2T6",
            "Emberlite stove, ClearFlow filter",
            1,
            "processing",
        ),
    ]


def seed(store: Store, today: dt.date | None = None) -> int:
    """Create the schema afresh (an older one is replaced) and load the demo orders.

    Returns and counted lookups go too: a reseeded store starts as new.
    """
    Base.metadata.drop_all(store.engine)
    store.create_schema()
    rows = demo_orders(today or dt.date.today())
    with store._session.begin() as session:
        session.add_all(rows)
    return len(rows)


def main(argv: list[str]) -> int:
    if argv != ["seed"]:
        print("usage: python -m actions.store seed", file=sys.stderr)
        return 2
    url = settings().store_database_url
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    count = seed(get_store(url))
    print(f"Seeded {count} demo orders into {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
