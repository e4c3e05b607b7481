"""Support figures from the service's own records: speed, satisfaction, containment.

- wait: escalation until an agent claimed it;
- first response: escalation until the agent's first message;
- handle: claimed until resolved or returned to the bot;
- resolution: escalation until resolved;
- CSAT: the customers' 1-5 ratings;
- containment: conversations the bot finished without a person.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.db import Store
from handoff.db.tables import conversations, csat, handoffs


def _span(rows: list[Any], start: str, end: str) -> dict[str, Any]:
    values = [
        (getattr(r, end) - getattr(r, start)).total_seconds()
        for r in rows
        if getattr(r, start) and getattr(r, end)
    ]
    if not values:
        return {"count": 0, "mean_s": None, "median_s": None}
    return {
        "count": len(values),
        "mean_s": round(statistics.fmean(values), 1),
        "median_s": round(statistics.median(values), 1),
    }


async def report(store: Store, days: int = 30) -> dict[str, Any]:
    """The figures over the last ``days`` days."""
    since = store.clock() - dt.timedelta(days=days)
    async with store.read() as connection:
        rows = (
            await connection.execute(select(handoffs).where(handoffs.c.created_at >= since))
        ).all()
        ratings = (
            (await connection.execute(select(csat.c.rating).where(csat.c.created_at >= since)))
            .scalars()
            .all()
        )
        started, escalated = await _reach(connection, since)
    return {
        "days": days,
        **_speed(rows),
        "csat": {
            "count": len(ratings),
            "mean": round(statistics.fmean(ratings), 2) if ratings else None,
            "distribution": {str(n): ratings.count(n) for n in range(1, 6)},
        },
        "conversations": started,
        "containment": round(1 - escalated / started, 3) if started else None,
    }


async def _reach(connection: AsyncConnection, since: dt.datetime) -> tuple[int, int]:
    """Conversations started since ``since``, and how many of them ever reached a person."""
    started = (
        await connection.execute(select(func.count()).where(conversations.c.created_at >= since))
    ).scalar_one()
    escalated = (
        await connection.execute(
            select(func.count(func.distinct(handoffs.c.conversation_id)))
            .select_from(handoffs.join(conversations))
            .where(conversations.c.created_at >= since)
        )
    ).scalar_one()
    return int(started), int(escalated)


def _speed(rows: list[Row]) -> dict[str, Any]:
    """How many handoffs, how they ended, and how long each step took."""
    resolved = [r for r in rows if r.state == "resolved"]
    handled = [r for r in rows if r.state in ("resolved", "returned")]
    return {
        "handoffs": len(rows),
        "by_state": dict(Counter(r.state for r in rows)),
        "by_trigger": dict(Counter(r.trigger for r in rows)),
        "wait": _span(rows, "created_at", "assigned_at"),
        "first_response": _span(rows, "created_at", "first_response_at"),
        "handle": _span(handled, "assigned_at", "closed_at"),
        "resolution": _span(resolved, "created_at", "closed_at"),
    }


def _gauge(value: float | None) -> str:
    return "NaN" if value is None else str(value)


def prometheus(figures: dict[str, Any], queue_sizes: dict[str, int], requests: Counter[str]) -> str:
    """The same figures in Prometheus' text format."""
    lines = [
        "# HELP handoff_queue_size Handoffs waiting, by state.",
        "# TYPE handoff_queue_size gauge",
        *(f'handoff_queue_size{{state="{s}"}} {n}' for s, n in sorted(queue_sizes.items())),
        "# HELP handoff_escalations Handoffs created in the report window, by trigger.",
        "# TYPE handoff_escalations gauge",
        *(
            f'handoff_escalations{{trigger="{t}"}} {n}'
            for t, n in sorted(figures["by_trigger"].items())
        ),
    ]
    for name in ("wait", "first_response", "handle", "resolution"):
        span = figures[name]
        lines += [
            f"# HELP handoff_{name}_seconds Mean {name.replace('_', ' ')} time in the window.",
            f"# TYPE handoff_{name}_seconds gauge",
            f"handoff_{name}_seconds {_gauge(span['mean_s'])}",
        ]
    lines += [
        "# HELP handoff_csat_mean Mean customer rating (1-5) in the window.",
        "# TYPE handoff_csat_mean gauge",
        f"handoff_csat_mean {_gauge(figures['csat']['mean'])}",
        "# HELP handoff_containment_ratio Conversations the bot finished without a person.",
        "# TYPE handoff_containment_ratio gauge",
        f"handoff_containment_ratio {_gauge(figures['containment'])}",
        "# HELP handoff_http_responses_total Responses since start, by status class.",
        "# TYPE handoff_http_responses_total counter",
        *(f'handoff_http_responses_total{{status="{s}"}} {n}' for s, n in sorted(requests.items())),
    ]
    return "\n".join(lines) + "\n"
