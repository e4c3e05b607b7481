"""Live events between two service instances: Redis Streams against PostgreSQL's NOTIFY.

    make bench-events
    python -m bench.events [--seconds 10] [--rates 500,2000,5000]

Two hubs, each with its engine (``handoff.events``), as two instances would have them;
one publishes message nudges (a 300-character message each, like the relay bench's) at
each rate for ``--seconds``, the other's subscriber takes them and notes how long each
took. Both run in this one process and share its event loop, so the figures are the
engines' cost plus one loop's, on this machine's two cores. For each engine and rate:
events delivered and lost, delivery latency p50 / p99 / max, and this process's CPU
milliseconds per event (both ends together) and the whole machine's (the Redis server's
or PostgreSQL's work included). Needs PostgreSQL on 127.0.0.1:5432 and
Redis on 127.0.0.1:6379 (``BENCH_POSTGRES``, ``BENCH_REDIS``); an engine whose server is
missing is skipped, said so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import time
import uuid
from typing import Any

from bench.report import table, write
from handoff.events import PostgresNotify, RedisStream, Shared
from handoff.hub import Hub

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
CHANNEL = "conversation:bench"
TICK_S = 0.01
DRAIN_S = 5.0
TEXT = "where is my order, it was meant to arrive on tuesday and the tracking hasn't moved " * 4


def engine(kind: str, hub: Hub, name: str) -> Shared:
    if kind == "redis":
        return RedisStream(hub, name, REDIS)
    return PostgresNotify(hub, name, POSTGRES)


async def joined(kind: str) -> tuple[Hub, Hub, list[Shared], list[asyncio.Task[None]]]:
    """Two hubs whose events an engine of ``kind`` joins, once both are heard."""
    name = f"bench_events_{uuid.uuid4().hex[:8]}"
    hubs = [Hub(inbox_size=10_000_000), Hub(inbox_size=10_000_000)]
    engines = [engine(kind, hub, name) for hub in hubs]
    tasks = []
    for hub, shared in zip(hubs, engines, strict=True):
        hub.forward = shared.forward
        tasks.append(asyncio.create_task(shared.run()))
    await asyncio.wait_for(asyncio.gather(*(e.ready.wait() for e in engines)), 10)
    return hubs[0], hubs[1], engines, tasks


async def one_rate(sender: Hub, receiver: Hub, rate: int, seconds: float) -> dict[str, Any]:
    """Publish ``rate`` events a second for ``seconds``; what arrived, and when."""
    latencies: list[float] = []
    seen: set[int] = set()
    total = int(rate * seconds)
    with receiver.subscribe(CHANNEL) as inbox:

        async def take() -> None:
            while len(seen) < total:
                event = await inbox.queue.get()
                latencies.append(time.perf_counter() - event["sent"])
                seen.add(event["seq"])

        taker = asyncio.create_task(take())
        cpu, busy, started = time.process_time(), machine_busy_s(), time.perf_counter()
        per_tick = rate * TICK_S
        sent = 0
        while sent < total:
            due = min(total, int((time.perf_counter() - started) / TICK_S * per_tick) + 1)
            for seq in range(sent, due):
                message = {"seq": seq, "speaker": "customer", "text": TEXT}
                event = {
                    "type": "sync",
                    "seq": seq,
                    "sent": time.perf_counter(),
                    "message": message,
                }
                sender.publish(CHANNEL, event)
            sent = due
            await asyncio.sleep(TICK_S)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(taker, DRAIN_S)
        taker.cancel()
        spent, machine = time.process_time() - cpu, machine_busy_s() - busy
    ordered = sorted(latencies)
    return {
        "sent": total,
        "delivered": len(seen),
        "lost": total - len(seen),
        "p50_ms": 1000 * statistics.median(ordered) if ordered else float("nan"),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))] if ordered else float("nan"),
        "max_ms": 1000 * ordered[-1] if ordered else float("nan"),
        "cpu_ms_per_event": 1000 * spent / max(1, len(seen)),
        "machine_ms_per_event": 1000 * machine / max(1, len(seen)),
    }


def machine_busy_s() -> float:
    """Seconds every core of this machine spent busy so far (``/proc/stat``): the Redis
    server's and PostgreSQL's work counts too."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


async def bench(kind: str, rates: list[int], seconds: float) -> list[dict[str, Any]]:
    sender, receiver, _, tasks = await joined(kind)
    try:
        await one_rate(sender, receiver, 100, 1.0)  # warm up: connections, first batches
        return [{"rate": r, **await one_rate(sender, receiver, r, seconds)} for r in rates]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def reachable(kind: str) -> str | None:
    """None when the engine's server answers, else why not."""
    try:
        if kind == "redis":
            import redis.asyncio as redis

            client = redis.from_url(REDIS)
            await client.ping()
            await client.close(close_connection_pool=True)
        else:
            import asyncpg

            connection = await asyncpg.connect(POSTGRES.replace("+asyncpg", ""), timeout=5)
            await connection.close()
    except Exception as error:  # any failure to reach it means: skip, saying why
        return f"{type(error).__name__}: {error}"
    return None


async def main_async(args: argparse.Namespace) -> None:
    rates = [int(r) for r in args.rates.split(",")]
    rows, skipped = [], []
    for kind in ("redis", "postgres"):
        why = await reachable(kind)
        if why is not None:
            skipped.append(f"- {kind}: skipped, its server is not reachable ({why})")
            continue
        for found in await bench(kind, rates, args.seconds):
            rows.append(
                [
                    kind,
                    found["rate"],
                    found["sent"],
                    found["delivered"],
                    found["lost"],
                    found["p50_ms"],
                    found["p99_ms"],
                    found["max_ms"],
                    found["cpu_ms_per_event"],
                    found["machine_ms_per_event"],
                ]
            )
    header = [
        "engine",
        "events/s offered",
        "sent",
        "delivered",
        "lost",
        "p50 ms",
        "p99 ms",
        "max ms",
        "this process's CPU ms / event",
        "machine's CPU ms / event",
    ]
    sections = {
        "Delivery between two hubs": table(header, rows),
        "Setup": (
            f"{args.seconds:g} s per rate after a 1 s warm-up; message nudges with a "
            f"{len(TEXT)}-character message; both hubs in one process on "
            f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}); "
            "Redis and PostgreSQL on this machine."
        ),
    }
    if skipped:
        sections["Skipped"] = "\n".join(skipped)
    command = "make bench-events" + (f" ARGS='{args.raw}'" if args.raw else "")
    write("events", command, sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", default="500,2000,5000")
    args = parser.parse_args()
    raw = []
    if args.seconds != 10.0:
        raw.append(f"--seconds {args.seconds:g}")
    if args.rates != "500,2000,5000":
        raw.append(f"--rates {args.rates}")
    args.raw = " ".join(raw)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
