"""Live relay: customers and agents talking through the real handoff service's sockets.

    make bench-relay
    python -m bench.relay --customers 500 --agents 50 --seconds 30 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Starts ``python -m handoff`` on a free port with a throwaway database (SQLite in a
temporary folder, or a fresh schema on the PostgreSQL server named). Setup: each agent is
added with ``python -m handoff add-agent``, logs in and becomes available; each customer
opens a session, is escalated (``POST /handoffs``) and claimed by an agent, so every
conversation is held by exactly one person and the service never asks Rasa.

Then every customer and agent socket opens. For ``--seconds`` each customer writes every
``--interval`` seconds (jittered ±50 %), and each agent answers every customer message it
receives. Latency is the time from the sender's frame to the other side's ``message``
event (both ends run in this process, on one clock). A socket the service closes is
counted as an error and reopened as docs/PROTOCOL.md asks of a client (``hello`` with the
last ``seq`` seen, then every unacknowledged message resent with its client id). Then the
bench waits for the messages in flight until all have landed or nothing has moved for
``--grace`` seconds: lost = acknowledged by the service but never delivered to the other
side; duplicated = the same ``seq`` twice on one socket; out of order = any other break in
the ``seq`` run. Any of those fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench.report import RESULTS, table, write
from tools.net import free_port, wait_http
from tools.serve import ROOT

DRAIN_LIMIT_S = 300  # an overloaded service may take long to deliver its backlog
SETUP_PARALLEL = 4  # conversations set up at once: more only lengthens the queue walks
RECONNECT_TRIES = 8
MINE = "mine"  # a customer socket's one conversation
PASSWORD = "bench-relay-password"  # noqa: S105 - the bench's throwaway agent, in its own database
Event = dict[str, Any]
Socket = aiohttp.ClientWebSocketResponse


@dataclass(frozen=True)
class Options:
    """The load: who talks, for how long, how often."""

    customers: int = 500
    agents: int = 50
    seconds: float = 30.0
    interval: float = 2.0
    grace: float = 5.0
    database_url: str = ""  # empty: SQLite in a temporary folder
    name: str = "relay"  # results/<name>.md

    def command(self) -> str:
        """The command line that reproduces this run."""
        if self == Options():
            return "make bench-relay"
        words = [
            f"--customers {self.customers}",
            f"--agents {self.agents}",
            f"--seconds {self.seconds:g}",
            f"--interval {self.interval:g}",
            f"--grace {self.grace:g}",
        ]
        if self.database_url:
            words.append(f"--database-url {safe_url(self.database_url)}")
        if self.name != Options.name:
            words.append(f"--name {self.name}")
        return "python -m bench.relay " + " ".join(words)

    def seats(self) -> list[int]:
        """How many conversations each agent holds: as even as the numbers allow."""
        share, extra = divmod(self.customers, self.agents)
        return [share + (i < extra) for i in range(self.agents)]


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- the service under test ----------------------------------------------------------


@dataclass
class Service:
    """``python -m handoff`` in its own process, on a free port."""

    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def token(self) -> str:
        return self.env["HANDOFF_SERVICE_TOKEN"]

    @property
    def started(self) -> subprocess.Popen[bytes]:
        """The process, once :meth:`start` has run."""
        if self.process is None:
            raise RuntimeError("the handoff service has not been started")
        return self.process

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "handoff"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def service_env(database_url: str, schema: str, port: int) -> dict[str, str]:
    """The service's settings: no Rasa, and no rate limit that one test address would hit."""
    return dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        HANDOFF_DATABASE_URL=database_url,
        HANDOFF_DATABASE_SCHEMA=schema,
        HANDOFF_PORT=str(port),
        HANDOFF_SERVICE_TOKEN=secrets.token_urlsafe(24),
        HANDOFF_RASA_URL="http://127.0.0.1:9",
        HANDOFF_CUSTOMER_MESSAGES_PER_MINUTE="1000000",
        HANDOFF_LOGINS_PER_MINUTE="1000000",
        HANDOFF_SESSIONS_PER_MINUTE="1000000",
    )


@contextlib.asynccontextmanager
async def postgres_schema(database_url: str) -> AsyncIterator[str]:
    """A new, empty schema on the PostgreSQL server, dropped afterwards."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn, timeout=10)
    schema = "bench_" + uuid.uuid4().hex[:12]
    await connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        await connection.execute(f"DROP SCHEMA {schema} CASCADE")
        await connection.close()


@contextlib.asynccontextmanager
async def running_service(database_url: str, folder: Path) -> AsyncIterator[Service]:
    """The service on a throwaway database, answering ``/healthz``; stopped afterwards."""
    async with contextlib.AsyncExitStack() as stack:
        schema = ""
        if database_url:
            schema = await stack.enter_async_context(postgres_schema(database_url))
        else:
            database_url = f"sqlite+aiosqlite:///{folder / 'handoff.db'}"
        port = free_port()
        service = Service(
            f"http://127.0.0.1:{port}", service_env(database_url, schema, port), folder / "log"
        )
        service.start()
        stack.callback(service.stop)
        await asyncio.to_thread(
            wait_http, f"{service.url}/healthz", service.started, 60, service.log
        )
        yield service


def cpu_s(pid: int | str) -> float:
    """CPU time the process has used so far, all threads, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int | str) -> float:
    """The process's peak resident memory (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- setup: agents, sessions, escalations, claims ------------------------------------


@dataclass
class Cast:
    """Everyone's tokens, once every conversation is held by an agent; with each agent's
    token, the last ``seq`` of each conversation it holds (its socket starts after it)."""

    customers: list[str]
    agents: list[tuple[str, dict[str, int]]]


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any, token: str = ""
) -> Any:
    """One JSON request that must succeed."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body, headers=headers) as response:
        if response.status >= 300:
            raise RuntimeError(f"{method} {url}: {response.status} {await response.text()}")
        return await response.json()


async def add_agents(service: Service, seats: list[int]) -> list[str]:
    """``python -m handoff add-agent`` for each agent, a few processes at a time."""
    names = [f"bench-agent-{i:03d}" for i in range(len(seats))]
    env = dict(service.env, HANDOFF_AGENT_PASSWORD=PASSWORD)
    running = asyncio.Semaphore(os.cpu_count() or 2)
    started, done = time.monotonic(), 0

    async def add(name: str, capacity: int) -> None:
        nonlocal done
        async with running:
            command = [sys.executable, "-m", "handoff", "add-agent", name, "--capacity"]
            process = await asyncio.create_subprocess_exec(
                *command,
                str(max(capacity, 1)),
                cwd=ROOT,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, errors = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"add-agent {name} failed: {errors.decode()[-2000:]}")
        done += 1
        progress("agents added", done, len(names), started)

    await asyncio.gather(*(add(n, c) for n, c in zip(names, seats, strict=True)))
    return names


async def sign_in(http: aiohttp.ClientSession, service: Service, names: list[str]) -> list[str]:
    """Each agent logs in and becomes available: their tokens."""
    tokens, started = [], time.monotonic()
    for name in names:  # the service checks passwords on its own loop: one at a time anyway
        login = {"name": name, "password": PASSWORD}
        token = (await call(http, "POST", f"{service.url}/agent/login", login))["token"]
        await call(http, "PUT", f"{service.url}/agent/me/availability", {"available": True}, token)
        tokens.append(token)
        progress("agents signed in", len(tokens), len(names), started)
    return tokens


def escalation(conversation_id: str) -> dict[str, Any]:
    """An escalation record as the action server sends it, with no bot history."""
    return {
        "idempotency_key": uuid.uuid4().hex,
        "conversation_id": conversation_id,
        "reason": {"trigger": "explicit_request", "value": "bench"},
        "summary": "Relay benchmark conversation.",
        "score_trail": [],
        "transcript": [],
    }


async def open_conversations(
    http: aiohttp.ClientSession, service: Service, agent_tokens: list[str], seats: list[int]
) -> Cast:
    """Sessions, escalated and claimed (agent ``i`` claims ``seats[i]``)."""
    turns = [token for token, n in zip(agent_tokens, seats, strict=True) for _ in range(n)]
    running, started = asyncio.Semaphore(SETUP_PARALLEL), time.monotonic()
    sessions: dict[str, str] = {}
    held: dict[str, dict[str, int]] = {token: {} for token in agent_tokens}

    async def one(agent_token: str) -> None:
        async with running:
            session = await call(http, "POST", f"{service.url}/sessions", {})
            sessions[session["conversation_id"]] = session["token"]
            body = escalation(session["conversation_id"])
            await call(http, "POST", f"{service.url}/handoffs", body, service.token)
            # The next in line may be another customer's: every agent still ends up
            # with its seats, since each claim follows an escalation.
            claimed = await call(http, "POST", f"{service.url}/queue/claim-next", {}, agent_token)
            last = max(m["seq"] for m in claimed["messages"])
            held[agent_token][claimed["conversation_id"]] = last
        done = sum(len(h) for h in held.values())
        progress("conversations escalated and claimed", done, len(turns), started)

    await asyncio.gather(*(one(token) for token in turns))
    if sum(len(h) for h in held.values()) != len(sessions):
        raise RuntimeError("some conversations were left unclaimed")
    return Cast(list(sessions.values()), list(held.items()))


async def set_up(http: aiohttp.ClientSession, service: Service, options: Options) -> Cast:
    seats = options.seats()
    names = await add_agents(service, seats)
    agent_tokens = await sign_in(http, service, names)
    return await open_conversations(http, service, agent_tokens, seats)


def progress(what: str, done: int, total: int, started: float) -> None:
    if done == total or done % max(total // 10, 1) == 0:
        print(f"  {what}: {done}/{total} ({time.monotonic() - started:.0f} s)", flush=True)


# --- the run -------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every message the bench sent, and what became of it. Client ids: ``c…`` from a
    customer, ``r…`` an agent's reply."""

    sent: dict[str, float] = field(default_factory=dict)  # client id -> sent at
    acked: set[str] = field(default_factory=set)
    delivered: dict[str, float] = field(default_factory=dict)  # client id -> other side got it
    duplicated: int = 0
    disordered: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closing: bool = False  # from now on a closed socket is expected
    drain_s: float = 0.0  # from the end of sending to the last message in flight landing
    cut_off: bool = False  # still draining at DRAIN_LIMIT_S

    def settled(self) -> bool:
        """Everything sent is acknowledged and delivered."""
        return len(self.acked) == len(self.delivered) == len(self.sent)

    def progress(self) -> int:
        return len(self.acked) + len(self.delivered)


class Sequence:
    """One socket's ``seq`` numbers per conversation: each once, each the next one."""

    def __init__(self, ledger: Ledger, last: dict[str, int]) -> None:
        self.ledger, self.last = ledger, last
        self.seen: dict[str, set[int]] = {}

    def is_new(self, conversation_id: str, seq: int) -> bool:
        seen = self.seen.setdefault(conversation_id, set())
        if seq in seen:
            self.ledger.duplicated += 1
            return False
        last = self.last.get(conversation_id)
        if last is not None and seq != last + 1:
            self.ledger.disordered += 1
        seen.add(seq)
        self.last[conversation_id] = max(seq, last or 0)
        return True


class Peer:
    """One socket as docs/PROTOCOL.md asks a client to run it: closed by the service, it
    reconnects with the last ``seq`` it saw and resends what was not acknowledged."""

    def __init__(self, url: str, token: str, ledger: Ledger, last_seq: dict[str, int]) -> None:
        self.url, self.token, self.ledger = url, token, ledger
        self.seqs = Sequence(ledger, last_seq)
        self.unacked: dict[str, Event] = {}  # client id -> frame
        self.socket: Socket | None = None

    def hello(self) -> Event:
        if self.url.endswith("/ws/customer"):
            return {"type": "hello", "token": self.token, "last_seq": self.seqs.last[MINE]}
        return {"type": "hello", "token": self.token, "last_seq": dict(self.seqs.last)}

    async def open(self, http: aiohttp.ClientSession) -> None:
        """Connect, say hello, wait for the welcome, resend what was never acknowledged."""
        self.socket = socket = await http.ws_connect(self.url)
        await socket.send_json(self.hello())
        welcome = await socket.receive_json(timeout=60)
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"{self.url}: expected welcome, got {welcome}")
        for frame in list(self.unacked.values()):
            await self.send(frame)

    async def send(self, frame: Event) -> None:
        self.unacked[frame["client_id"]] = frame
        with contextlib.suppress(ConnectionError):  # closing: resent after reconnecting
            if self.socket is not None:  # between sockets: likewise
                await self.socket.send_json(frame)

    async def listen(
        self, http: aiohttp.ClientSession, on_message: Callable[[Event], Awaitable[None]]
    ) -> None:
        """Each event until the bench closes the socket; any other close, reconnect."""
        while self.socket is not None:
            async for frame in self.socket:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                await self.receive(json.loads(frame.data), on_message)
            if self.ledger.closing:
                return
            self.ledger.errors[f"socket closed by the service ({self.socket.close_code})"] += 1
            await self.reopen(http)

    async def receive(self, event: Event, on_message: Callable[[Event], Awaitable[None]]) -> None:
        if event["type"] == "ack":
            self.ledger.acked.add(event["client_id"])
            self.unacked.pop(event["client_id"], None)
        elif event["type"] == "error":
            self.ledger.errors[f"error event: {event.get('code')}"] += 1
        elif event["type"] == "message" and self.seqs.is_new(
            event.get("conversation_id", MINE), event["seq"]
        ):
            await on_message(event)

    async def reopen(self, http: aiohttp.ClientSession) -> None:
        """Reconnect with backoff; ``socket`` is None if the bench is closing or gives up."""
        for attempt in range(RECONNECT_TRIES):
            await asyncio.sleep(min(0.25 * 2**attempt, 5))
            if self.ledger.closing:
                break
            try:
                await self.open(http)
                return
            except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError):
                self.ledger.errors["reconnect failed"] += 1
        self.socket = None

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


async def customer(
    peer: Peer, http: aiohttp.ClientSession, index: int, options: Options, stop: asyncio.Event
) -> None:
    """Writes every ``interval`` seconds (jittered) until told to stop; reads the answers."""
    ledger = peer.ledger

    async def on_message(event: Event) -> None:
        if event["speaker"] == "agent" and event["client_id"] in ledger.sent:
            ledger.delivered.setdefault(event["client_id"], time.monotonic())

    reader = asyncio.ensure_future(peer.listen(http, on_message))
    jitter = random.Random(index)  # noqa: S311 - test data or jitter, not a secret
    await pause(stop, jitter.uniform(0, options.interval))
    n = 0
    while not stop.is_set():
        client_id = f"c{index}-{n}"
        ledger.sent[client_id] = time.monotonic()
        text = f"Question {n} ({client_id})"
        await peer.send({"type": "message", "text": text, "client_id": client_id})
        n += 1
        await pause(stop, options.interval * jitter.uniform(0.5, 1.5))
    await reader


async def agent(peer: Peer, http: aiohttp.ClientSession) -> None:
    """Answers every customer message as it arrives."""
    ledger = peer.ledger

    async def on_message(event: Event) -> None:
        asked = event["client_id"]
        if event["speaker"] == "customer" and asked in ledger.sent:
            ledger.delivered.setdefault(asked, time.monotonic())
            client_id = f"r{asked}"
            ledger.sent[client_id] = time.monotonic()
            text = f"Answer to {asked}"
            reply = {"type": "message", "handoff_id": event["handoff_id"], "text": text}
            await peer.send({**reply, "client_id": client_id})

    await peer.listen(http, on_message)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, waking early when ``stop`` is set."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def drain(ledger: Ledger, quiet_s: float) -> None:
    """Wait for the messages in flight: until every one is delivered, or nothing has moved
    for ``quiet_s`` (whatever is missing then is lost), or ``DRAIN_LIMIT_S`` is up."""
    started = moved = time.monotonic()
    count = ledger.progress()
    while not ledger.settled() and time.monotonic() - moved < quiet_s:
        if time.monotonic() - started > DRAIN_LIMIT_S:
            ledger.cut_off = True
            break
        await asyncio.sleep(0.05)
        if ledger.progress() != count:
            count, moved = ledger.progress(), time.monotonic()
    ledger.drain_s = time.monotonic() - started


async def open_sockets(
    http: aiohttp.ClientSession, service: Service, cast: Cast, ledger: Ledger
) -> tuple[list[Peer], list[Peer]]:
    """Every agent's socket, then every customer's, each past its welcome."""
    base = service.url.replace("http", "ws", 1)
    agents = [Peer(f"{base}/ws/agent", t, ledger, held) for t, held in cast.agents]
    customers = [Peer(f"{base}/ws/customer", t, ledger, {MINE: 0}) for t in cast.customers]
    await asyncio.gather(*(peer.open(http) for peer in agents))
    await asyncio.gather(*(peer.open(http) for peer in customers))
    return customers, agents


async def talk(
    http: aiohttp.ClientSession, customers: list[Peer], agents: list[Peer], options: Options
) -> float:
    """The timed run, then the drain; when the run started."""
    stop, started = asyncio.Event(), time.monotonic()
    tasks = [asyncio.ensure_future(agent(peer, http)) for peer in agents]
    tasks += [
        asyncio.ensure_future(customer(peer, http, i, options, stop))
        for i, peer in enumerate(customers)
    ]
    await asyncio.sleep(options.seconds)
    stop.set()
    ledger = agents[0].ledger
    await drain(ledger, options.grace)
    ledger.closing = True
    await asyncio.gather(*(peer.close() for peer in customers + agents))
    await asyncio.gather(*tasks)
    return started


# --- figures -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one run measured."""

    options: Options
    database: str
    setup_s: float
    ledger: Ledger
    started: float
    usage: Usage
    load: float  # the machine's 1-minute load average as the run started

    def latencies_ms(self, prefix: str) -> list[float]:
        ledger = self.ledger
        return [
            (at - ledger.sent[client_id]) * 1000
            for client_id, at in ledger.delivered.items()
            if client_id.startswith(prefix)
        ]

    @property
    def lost(self) -> int:
        return len(self.ledger.acked - self.ledger.delivered.keys())

    @property
    def unacknowledged(self) -> int:
        return len(self.ledger.sent.keys() - self.ledger.acked)

    @property
    def window_s(self) -> float:
        """From the start of the run to the last delivery."""
        last = max(self.ledger.delivered.values(), default=self.started)
        return max(last - self.started, 1e-9)

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.ledger.duplicated or self.ledger.disordered)


async def measure(options: Options) -> Outcome:
    """Start the service, set everything up, run the load, and stop the service."""
    with TemporaryDirectory(prefix="bench-relay-") as folder:
        async with running_service(options.database_url, Path(folder)) as service:
            try:
                return await measure_on(service, options)
            except Exception:
                print(f"Failed; the service's log ends:\n{tail(service.log)}", file=sys.stderr)
                raise


async def measure_on(service: Service, options: Options) -> Outcome:
    pid = service.started.pid
    connector = aiohttp.TCPConnector(limit=0)  # one connection per socket, no pool ceiling
    async with aiohttp.ClientSession(connector=connector) as http:
        print(f"Setting up {options.customers} conversations with {options.agents} agents …")
        started = time.monotonic()
        cast = await set_up(http, service, options)
        setup_s = time.monotonic() - started
        ledger = Ledger()
        customers, agents = await open_sockets(http, service, cast, ledger)
        print(f"{len(customers) + len(agents)} sockets open; talking for {options.seconds:g} s …")
        cpu_before, load = (cpu_s(pid), cpu_s("self")), os.getloadavg()[0]
        run_started = await talk(http, customers, agents, options)
        used = usage(pid, cpu_before, run_started)
    database = describe_database(options.database_url)
    return Outcome(options, database, setup_s, ledger, run_started, used, load)


@dataclass(frozen=True)
class Usage:
    """Each process's CPU (cores, averaged over the run and the drain) and peak memory."""

    service_cores: float
    bench_cores: float
    service_peak_mib: float
    bench_peak_mib: float


def usage(pid: int, cpu_before: tuple[float, float], started: float) -> Usage:
    wall = time.monotonic() - started
    service = (cpu_s(pid) - cpu_before[0]) / wall
    bench = (cpu_s("self") - cpu_before[1]) / wall
    return Usage(service, bench, peak_mib(pid), peak_mib("self"))


def describe_database(url: str) -> str:
    if not url:
        return "SQLite (WAL) file in a temporary folder"
    return f"PostgreSQL, a fresh schema in {safe_url(url)}"


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99 and the maximum (NaN for none)."""
    if len(values) < 2:
        only = values[0] if values else float("nan")
        return only, only, only
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98], max(values)


def latency_table(outcome: Outcome) -> str:
    rows = []
    for label, prefix in (("customer → agent", "c"), ("agent → customer", "r")):
        values = outcome.latencies_ms(prefix)
        sent = sum(c.startswith(prefix) for c in outcome.ledger.sent)
        p50, p99, top = percentiles(values)
        rows.append([label, sent, len(values), f"{p50:.1f}", f"{p99:.1f}", f"{top:.1f}"])
    return table(["direction", "sent", "delivered", "p50 ms", "p99 ms", "max ms"], rows)


def delivery_table(outcome: Outcome) -> str:
    ledger, used = outcome.ledger, outcome.usage
    errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(ledger.errors.items())) or "none"
    rows: list[list[object]] = [
        ["messages delivered, both directions", len(ledger.delivered)],
        ["messages/s (delivered ÷ run start to last delivery)", f"{delivered_rate(outcome):.1f}"],
        ["lost (acknowledged, never delivered)", outcome.lost],
        ["duplicated (same seq twice on a socket)", ledger.duplicated],
        ["out of order or skipped seq", ledger.disordered],
        ["sent but not acknowledged", outcome.unacknowledged],
        ["drain: end of sending until nothing was in flight", drain_text(outcome.ledger)],
        ["errors (error events, sockets closed by the service)", errors],
        ["service peak memory (VmHWM)", f"{used.service_peak_mib:.0f} MiB"],
        ["bench peak memory (VmHWM)", f"{used.bench_peak_mib:.0f} MiB"],
        ["service CPU, run and drain", f"{used.service_cores:.2f} cores"],
        ["bench CPU, run and drain", f"{used.bench_cores:.2f} cores"],
    ]
    return table(["measure", "value"], rows)


def drain_text(ledger: Ledger) -> str:
    cut_off = f" (cut off: still delivering after {DRAIN_LIMIT_S} s)" if ledger.cut_off else ""
    return f"{ledger.drain_s:.1f} s{cut_off}"


def delivered_rate(outcome: Outcome) -> float:
    return len(outcome.ledger.delivered) / outcome.window_s


def setup_text(outcome: Outcome) -> str:
    o = outcome.options
    capacity = max(o.seats(), default=0)
    return "\n".join(
        [
            f"- Machine: {cpu_model()}, {os.cpu_count()} cores; the bench and the service "
            f"share them (load average {outcome.load:.1f} as the run started).",
            f"- Service: `python -m handoff` on loopback; database: {outcome.database}.",
            f"- Load: {o.customers} customer sockets, {o.agents} agent sockets (capacity "
            f"{capacity}, every conversation claimed); each customer writes every "
            f"{o.interval:g} s ±50 % for {o.seconds:g} s, each agent answers every message; "
            f"then the messages in flight are awaited until none is left or nothing moved "
            f"for {o.grace:g} s.",
            f"- Offered load: {o.customers / o.interval:.0f} customer messages/s plus as "
            "many answers.",
            f"- Setup (agents added and signed in, conversations escalated and claimed): "
            f"{outcome.setup_s:.0f} s.",
        ]
    )


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def write_results(outcome: Outcome, folder: Path = RESULTS) -> Path:
    """Print the tables and write them to ``<folder>/<name>.md`` (``relay.md``)."""
    sections = {
        "Setup": setup_text(outcome),
        "Latency": latency_table(outcome),
        "Delivery": delivery_table(outcome),
    }
    return write(outcome.options.name, outcome.options.command(), sections, folder)


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    d = Options()
    parser.add_argument("--customers", type=int, default=d.customers)
    parser.add_argument("--agents", type=int, default=d.agents)
    parser.add_argument("--seconds", type=float, default=d.seconds, help="length of the run")
    parser.add_argument("--interval", type=float, default=d.interval, help="per customer")
    parser.add_argument(
        "--grace",
        type=float,
        default=d.grace,
        help="stop waiting for messages in flight after this long without any arriving",
    )
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL URL (default: SQLite in a temp folder)"
    )
    parser.add_argument(
        "--name",
        default=d.name,
        help="write results/<name>.md (default %(default)s), e.g. to keep a lighter run beside it",
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", args.name):
        parser.error("--name: lower-case letters, digits, - and _ only")
    if args.customers < 1 or args.agents < 1 or args.agents > args.customers:
        parser.error("need at least one customer per agent")
    return Options(**vars(args))


def main(argv: list[str]) -> int:
    options = parse(argv)
    outcome = asyncio.run(measure(options))
    write_results(outcome)
    if outcome.failed:
        print("FAILED: messages were lost, duplicated or out of order.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
