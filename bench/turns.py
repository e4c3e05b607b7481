"""Bot turns through the customer socket, beside the stock ``rasa init`` bot on Rasa's REST
channel: turns per second and latency at 1 and 20 concurrent chats.

    make bench-turns
    python -m bench.turns [--duration 30] [--chats 20] [--quick] [--profile]

Larkspur: the whole system (:class:`tools.serve.Stack`: Rasa with the trained model, the
action server, the handoff service, the outbox relay) on free ports with a throwaway
``var`` and a freshly seeded demo store. Each customer speaks the widget's protocol
(docs/PROTOCOL.md): ``POST /sessions``, ``/ws/customer``, ``hello`` with the token, then
``message`` frames with a ``client_id``. A turn is the time from sending a message to the
first bot message that answers it: after the message's ``ack`` and after the bot's
``typing`` event for it (the service answers a conversation's messages one at a time, so a
late reply to the previous message cannot be taken for this one's answer).

Stock: ``rasa init --no-prompt`` in a temporary folder (it writes its own data and trains;
it reaches no network), served by ``rasa run`` on a free loopback port. A turn is one
``POST /webhooks/rest/webhook`` until its answer.

Each chat runs the scripted conversations below (5 to 8 turns: a greeting, an FAQ or two, an
order status with its number and billing postcode, thanks and goodbye) one after another,
each in a new session (Larkspur) or with a new sender id (stock), with no pause between
turns: a closed loop, so the turns/s at 20 chats is what the system serves when busy. The
stock bot only knows greetings, moods and goodbyes; it answers the same texts as best it
can, which makes it the floor of what Rasa itself costs. Every phase (side and concurrency)
runs for ``--duration`` seconds after one unmeasured warm-up pass of every script; the
turns started by then are finished.

``--profile`` adds one more 20-chat phase on Larkspur, not counted in the table, with
py-spy (``pip install py-spy``; not in requirements.lock, as only this option needs it)
recording Rasa and the handoff service (and the action server) at 100 Hz, and writes a
summary of each to ``results/profile-<part>.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, Protocol
from unittest import mock

import aiohttp

from actions.store import get_store, seed
from bench.relay import cpu_model, cpu_s, tail
from bench.report import RESULTS, table, write
from tools.model_cache import model_path
from tools.net import free_port, wait_http
from tools.serve import ROOT, Stack

BIN = Path(sys.executable).parent
TURN_TIMEOUT_S = 30.0
# Goals from issue 15, on this machine, in the same run.
GOAL_P50_1_CHAT_MS = 40.0
GOAL_RATIO = 3.0
GOAL_P99_MS = 1000.0
# Every customer of the bench comes from 127.0.0.1: without this the service's
# per-address session limit (20 a minute) would refuse most of the new sessions.
BENCH_ENV = {"HANDOFF_SESSIONS_PER_MINUTE": "1000000"}
PROFILE_RATE = 100
PROFILED = ("rasa", "handoff", "actions")

# Demo orders and their billing postcodes: data/STORE.md.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    (
        "hi",
        "what's your return policy",
        "do you ship to canada",
        "where is my order LS-117342?",
        "80302",
        "thanks",
        "bye",
    ),
    (
        "hello",
        "where is my order LS-204381",
        "97214",
        "how long does delivery take",
        "thank you",
        "goodbye",
    ),
    (
        "hey",
        "do you have express shipping",
        "what payment methods do you accept",
        "where's my order LS-883920?",
        "M5V 2T6",
        "do you sell gift cards",
        "thanks a lot",
        "bye bye",
    ),
    (
        "good morning",
        "can I track my order LS-402219",
        "02139",
        "thanks",
        "goodbye",
    ),
)


@dataclass(frozen=True)
class Options:
    """How long each phase runs, how many chats at once, and whether to profile."""

    duration: float = 30.0
    chats: int = 20
    quick: bool = False
    profile: bool = False
    stock_project: Path | None = None  # a trained `rasa init` project to reuse

    @property
    def phase_s(self) -> float:
        return min(self.duration, 5.0) if self.quick else self.duration

    @property
    def name(self) -> str:
        """results/<name>.md: a quick run does not replace the full one."""
        return "turns-quick" if self.quick else "turns"

    def command(self) -> str:
        if self == Options():
            return "make bench-turns"
        words = []
        if self.duration != Options.duration:
            words.append(f"--duration {self.duration:g}")
        if self.chats != Options.chats:
            words.append(f"--chats {self.chats}")
        words += ["--quick"] * self.quick + ["--profile"] * self.profile
        if self.stock_project is not None:
            words.append(f"--stock-project {self.stock_project}")
        return " ".join(["python -m bench.turns", *words])


# --- one phase -----------------------------------------------------------------------


class TurnFailed(Exception):
    """A turn that got no bot answer: why, as the results table names it."""


@dataclass
class Phase:
    """What one side did at one concurrency."""

    side: str
    chats: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    silent: int = 0  # turns answered with no message at all (the stock bot, off its topics)
    conversations: int = 0
    window_s: float = 0.0
    cores: dict[str, float] = field(default_factory=dict)  # part -> CPU cores used

    @property
    def turns_per_s(self) -> float:
        return len(self.latencies_ms) / self.window_s if self.window_s else 0.0

    def cut(self, q: int) -> float:
        """The ``q``-th percentile of the turn latencies (ms); NaN if none."""
        values = self.latencies_ms
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Side(Protocol):
    """A bot as customers reach it."""

    name: str

    async def conversation(self, script: Sequence[str], phase: Phase, deadline: float) -> None:
        """Run ``script`` in a new conversation, one turn at a time, until ``deadline``."""


async def run_phase(side: Side, chats: int, seconds: float) -> Phase:
    """``chats`` customers, each running the scripts one after another for ``seconds``."""
    phase = Phase(side.name, chats)
    started = time.monotonic()
    deadline = started + seconds

    async def chat(index: int) -> None:
        n = index
        while time.monotonic() < deadline:
            phase.conversations += 1
            await side.conversation(SCRIPTS[n % len(SCRIPTS)], phase, deadline)
            n += chats

    await asyncio.gather(*(chat(i) for i in range(chats)))
    phase.window_s = time.monotonic() - started
    return phase


async def warm_up(side: Side) -> Phase:
    """Every script once, one at a time, unmeasured: the first turns load models and caches."""
    phase = Phase(side.name, 1)
    for script in SCRIPTS:
        await side.conversation(script, phase, time.monotonic() + 600)
    if phase.errors:
        raise RuntimeError(f"{side.name}: the warm-up failed: {dict(phase.errors)}")
    return phase


# --- the two sides -------------------------------------------------------------------


class StockBot:
    """The stock bot through Rasa's REST channel, a new sender id per conversation."""

    name = "stock rasa init (REST)"

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, f"{url}/webhooks/rest/webhook"

    async def conversation(self, script: Sequence[str], phase: Phase, deadline: float) -> None:
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        for text in script:
            if time.monotonic() >= deadline:
                return
            started = time.monotonic()
            try:
                replies = await self.turn(sender, text)
            except (TurnFailed, aiohttp.ClientError, asyncio.TimeoutError) as error:
                phase.errors[describe(error)] += 1
                return
            phase.latencies_ms.append((time.monotonic() - started) * 1000)
            phase.silent += not replies

    async def turn(self, sender: str, text: str) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text}
        timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)
        async with self.http.post(self.url, json=body, timeout=timeout) as response:
            if response.status != 200:
                raise TurnFailed(f"HTTP {response.status}")
            replies: list[dict[str, Any]] = await response.json()
            return replies


class Widget:
    """Larkspur through the handoff service's customer socket, a new session each time."""

    name = "Larkspur (customer socket)"

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.transcript: list[tuple[str, str]] | None = None  # (customer, bot) if kept

    async def conversation(self, script: Sequence[str], phase: Phase, deadline: float) -> None:
        try:
            token = await self.session()
            async with self.http.ws_connect(
                self.url.replace("http", "ws", 1) + "/ws/customer"
            ) as ws:
                await ws.send_json({"type": "hello", "token": token, "last_seq": 0})
                await self.welcome(ws)
                for text in script:
                    if time.monotonic() >= deadline:
                        return
                    started = time.monotonic()
                    answer = await self.turn(ws, text)
                    phase.latencies_ms.append((time.monotonic() - started) * 1000)
                    if self.transcript is not None:
                        self.transcript.append((text, answer))
        except (TurnFailed, aiohttp.ClientError, asyncio.TimeoutError) as error:
            phase.errors[describe(error)] += 1

    async def session(self) -> str:
        async with self.http.post(self.url + "/sessions", json={}) as response:
            if response.status != 201:
                raise TurnFailed(f"POST /sessions: HTTP {response.status}")
            return str((await response.json())["token"])

    async def welcome(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        event = await receive(ws, time.monotonic() + TURN_TIMEOUT_S)
        if event["type"] != "welcome" or event.get("owner") != "bot":
            raise TurnFailed(f"expected a welcome from the bot, got {event['type']}")

    async def turn(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> str:
        """Send ``text``; return the first bot message that answers it."""
        client_id = uuid.uuid4().hex
        deadline = time.monotonic() + TURN_TIMEOUT_S
        await ws.send_json({"type": "message", "text": text, "client_id": client_id})
        acked: int | None = None
        typing = False  # the bot took up this message: whatever it says next answers it
        answers: list[dict[str, Any]] = []
        while True:
            event = await receive(ws, deadline)
            kind = event["type"]
            if kind == "ack" and event.get("client_id") == client_id:
                acked = event["seq"]
            elif kind == "typing" and event.get("speaker") == "bot":
                typing = True
            elif kind == "error":
                raise TurnFailed(f"error event: {event.get('code')}")
            elif kind == "message" and typing and event.get("speaker") != "customer":
                answers.append(event)
            elif kind in ("queue", "offline", "agent_joined"):
                raise TurnFailed("handed over to a person")
            answer = next((a for a in answers if acked is not None and a["seq"] > acked), None)
            if answer is not None:
                if answer["speaker"] != "bot":
                    raise TurnFailed(f"answered by {answer['speaker']}: {answer['text'][:60]}")
                return str(answer["text"])


async def receive(ws: aiohttp.ClientWebSocketResponse, deadline: float) -> dict[str, Any]:
    """The next event, or :class:`TurnFailed` if the socket closes or the time is up."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TurnFailed(f"no answer within {TURN_TIMEOUT_S:g} s")
    try:
        frame = await ws.receive(timeout=remaining)
    except asyncio.TimeoutError:
        raise TurnFailed(f"no answer within {TURN_TIMEOUT_S:g} s") from None
    if frame.type != aiohttp.WSMsgType.TEXT:
        raise TurnFailed(f"socket closed ({ws.close_code})")
    event: dict[str, Any] = json.loads(frame.data)
    return event


def describe(error: BaseException) -> str:
    if isinstance(error, TurnFailed):
        return str(error)
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {TURN_TIMEOUT_S:g} s"
    return type(error).__name__


# --- the servers ---------------------------------------------------------------------


@contextlib.contextmanager
def larkspur(
    folder: Path,
    content_dir: Path = ROOT,
    env: dict[str, str] = BENCH_ENV,
    rasa_front: str | None = None,
) -> Iterator[Stack]:
    """The whole system on free ports, with a throwaway var and a fresh demo store (and the
    studio writing into ``content_dir``; the handoff service reaching Rasa at
    ``rasa_front`` if given)."""
    model = ROOT / model_path(ROOT)
    if not model.exists():
        raise SystemExit(f"{model} is missing: run `make train` first")
    folder.mkdir()
    store_url = f"sqlite:///{folder / 'store.db'}"
    seed(get_store(store_url))
    get_store(store_url).engine.dispose()
    stack = Stack(
        model,
        free_port(),
        free_port(),
        var_dir=folder,
        store_url=store_url,
        handoff_port=free_port(),
        content_dir=content_dir,
        rasa_front=rasa_front,
    )
    print("Starting Larkspur (Rasa, action server, handoff service, outbox relay) …", flush=True)
    with mock.patch.dict(os.environ, env):
        stack.start(progress=True)
    try:
        yield stack
    finally:
        stack.stop()


def stock_env() -> dict[str, str]:
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")


def init_stock_project(folder: Path) -> Path:
    """``rasa init --no-prompt`` in ``folder``: the stock project, trained."""
    folder.mkdir()
    log = folder.parent / "stock-init.log"
    print(f"Creating and training the stock bot (rasa init) in {folder} …", flush=True)
    started = time.monotonic()
    with log.open("wb") as out:
        done = subprocess.run(  # noqa: S603 - fixed argv built here, no shell
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=folder,
            env=stock_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"rasa init failed; its log ends:\n{tail(log)}")
    print(f"  trained ({time.monotonic() - started:.0f} s)", flush=True)
    return folder


@contextlib.contextmanager
def stock_bot(project: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``rasa run`` of the stock project on a free loopback port: its URL and process."""
    model = max((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    port = free_port()
    args = ["run", "--interface", "127.0.0.1", "--port", str(port), "--model", str(model)]
    args += ["--credentials", str(project / "credentials.yml")]
    args += ["--endpoints", str(project / "endpoints.yml")]
    print("Starting the stock bot (rasa run) …", flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv built here, no shell
            [str(BIN / "rasa"), *args], cwd=project, env=stock_env(), stdout=out, stderr=out
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/", process, 300, log)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- CPU and profiles ----------------------------------------------------------------


class Meter:
    """CPU time each process uses over a phase, in cores."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = {**pids, "bench": os.getpid()}
        self.before = {name: cpu_s(pid) for name, pid in self.pids.items()}
        self.started = time.monotonic()

    def cores(self) -> dict[str, float]:
        wall = max(time.monotonic() - self.started, 1e-9)
        return {name: (cpu_s(pid) - self.before[name]) / wall for name, pid in self.pids.items()}


async def measured(side: Side, chats: int, seconds: float, pids: dict[str, int]) -> Phase:
    print(f"  {side.name}, {chats} chat{'s' * (chats > 1)}, {seconds:g} s …", flush=True)
    meter = Meter(pids)
    phase = await run_phase(side, chats, seconds)
    phase.cores = meter.cores()
    return phase


def py_spy() -> Path | None:
    """py-spy in the venv or on PATH."""
    found = shutil.which("py-spy", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return Path(found) if found else None


def start_profilers(
    pids: dict[str, int], seconds: float, folder: Path
) -> tuple[dict[str, Path], list[subprocess.Popen[bytes]]]:
    """One ``py-spy record`` per process, for ``seconds``: the raw files they will write, and
    the py-spy processes."""
    spy = py_spy()
    if spy is None:
        raise RuntimeError("py-spy is not installed")
    raws, processes = {}, []
    for name, pid in pids.items():
        raws[name] = raw = folder / f"profile-{name}.txt"
        args = ["record", "-p", str(pid), "-r", str(PROFILE_RATE), "-d", str(int(seconds))]
        args += ["--format", "raw", "--nolineno", "-o", str(raw)]
        processes.append(
            subprocess.Popen(  # noqa: S603 - fixed argv built here, no shell
                [str(spy), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    return raws, processes


async def profile(side: Side, options: Options, pids: dict[str, int]) -> Phase:
    """One more phase with py-spy recording each process; raw stacks land in var/profile."""
    folder = ROOT / "var" / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    chats, seconds = options.chats, options.phase_s
    print(f"  profiling {', '.join(pids)} with py-spy, {chats} chats, {seconds:g} s …", flush=True)
    raws, profilers = start_profilers(pids, seconds + 1, folder)
    await asyncio.sleep(1)  # py-spy attaches
    meter = Meter(pids)
    phase = await run_phase(side, chats, seconds)
    phase.cores = meter.cores()
    for process in profilers:
        await asyncio.to_thread(process.wait, 60)
    suffix = "-quick" if options.quick else ""
    for name, raw in raws.items():
        if raw.exists():
            write_profile(f"profile-{name}{suffix}", name, raw, phase, options.command())
    return phase


@dataclass
class Flames:
    """py-spy's raw stacks folded into per-frame sample counts."""

    samples: int = 0
    own: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    packages: Counter[str] = field(default_factory=Counter)  # own time by package
    # Each sample's innermost Rasa or project frame: where library time is spent from.
    anchors: Counter[str] = field(default_factory=Counter)

    @classmethod
    def read(cls, text: str) -> Flames:
        flames = cls()
        for line in text.splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n, frames = int(count), [short(f) for f in stack.split(";")]
            flames.samples += n
            flames.own[frames[-1]] += n
            flames.packages[package(frames[-1])] += n
            flames.anchors[anchor(frames)] += n
            for frame in set(frames):
                flames.total[frame] += n
        return flames

    def below_entry(self) -> Counter[str]:
        """Total time of the frames that are not in every sample."""
        return Counter({f: c for f, c in self.total.items() if c < self.samples})

    def top(self, counts: Counter[str], n: int = 25) -> str:
        rows = [
            [i, f"{100 * c / max(self.samples, 1):.1f} %", c, f"`{frame}`"]
            for i, (frame, c) in enumerate(counts.most_common(n), 1)
        ]
        return table(["#", "share", "samples", "frame"], rows)


SITE = f"{os.sep}site-packages{os.sep}"


def short(frame: str) -> str:
    """``run (/…/site-packages/rasa/core/agent.py)`` → ``run (rasa/core/agent.py)``."""
    name, _, path = frame.partition(" (")
    path = path.rstrip(")")
    if SITE in path:
        path = path.split(SITE, 1)[1]
    elif path.startswith(str(ROOT) + os.sep):
        path = path[len(str(ROOT)) + 1 :]
    return f"{name} ({path})" if path else name


ANCHORS = ("rasa", "rasa_sdk", "bot", "actions", "handoff", "contracts")


def anchor(frames: list[str]) -> str:
    """The innermost frame in Rasa's or this project's code (else the innermost frame)."""
    return next((f for f in reversed(frames) if package(f) in ANCHORS), frames[-1])


def package(frame: str) -> str:
    """The top-level package or module a frame's file belongs to (py-spy already shows
    paths relative to ``sys.path``: ``sqlalchemy/engine/base.py``, ``asyncio/events.py``)."""
    path = frame.partition(" (")[2].rstrip(")")
    return path.split("/")[0].removesuffix(".py") or "(native or unknown)"


def write_profile(
    title: str, part: str, raw: Path, phase: Phase, command: str, folder: Path = RESULTS
) -> Path:
    """Summarise one py-spy raw file into ``<folder>/<title>.md``."""
    flames = Flames.read(raw.read_text(errors="replace"))
    busy = flames.samples / (PROFILE_RATE * phase.window_s) if phase.window_s else 0.0
    shown = raw.relative_to(ROOT) if raw.is_relative_to(ROOT) else raw
    setup = (
        f"- py-spy {PROFILE_RATE} Hz on the `{part}` process (no subprocesses; idle threads "
        f"left out) during an extra {phase.chats}-chat Larkspur phase of {phase.window_s:.0f} s, "
        f"not the one in results/turns.md: {len(phase.latencies_ms)} turns, "
        f"{phase.turns_per_s:.1f} turns/s, p50 {phase.cut(50):.0f} ms, p99 "
        f"{phase.cut(99):.0f} ms (the sampling slows it). CPU in cores: {cores_text(phase)}.\n"
        f"- {flames.samples} samples of a running thread, about {busy:.2f} of the phase's "
        "wall time (threads add up). Shares below are of those samples.\n"
        f"- Raw stacks: `{shown}` (not committed)."
    )
    packages = [
        [p, f"{100 * c / max(flames.samples, 1):.1f} %", c]
        for p, c in flames.packages.most_common(12)
    ]
    sections = {
        "Setup": setup,
        "Own time by package": table(["package", "share", "samples"], packages),
        "Top frames by own time": flames.top(flames.own),
        "Top Rasa and project frames, with the library calls beneath them": (
            "Each sample counted once, at its innermost frame in "
            f"{', '.join(f'`{a}`' for a in ANCHORS)}.\n\n" + flames.top(flames.anchors)
        ),
        "Top frames by total time (the frame or anything it called)": (
            "Frames in every sample (the entry points down to the server loop) are left out.\n\n"
            + flames.top(flames.below_entry())
        ),
    }
    return write(title, command, sections, folder)


# --- figures -------------------------------------------------------------------------


@dataclass
class Outcome:
    """Every measured phase, with the machine's state around the run."""

    options: Options
    phases: list[Phase]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    stock_train_s: float | None = None  # None: a reused project
    transcript: list[tuple[str, str]] = field(default_factory=list)

    def phase(self, side: str, chats: int) -> Phase:
        return next(p for p in self.phases if p.side == side and p.chats == chats)

    @property
    def ratio(self) -> float:
        ours = self.phase(Widget.name, self.options.chats).turns_per_s
        stock = self.phase(StockBot.name, self.options.chats).turns_per_s
        return ours / stock if stock else float("nan")


def cores_text(phase: Phase) -> str:
    return ", ".join(f"{name} {cores:.2f}" for name, cores in phase.cores.items())


def phase_table(outcome: Outcome) -> str:
    rows = []
    for p in outcome.phases:
        errors = ", ".join(f"{k}: {n}" for k, n in sorted(p.errors.items())) or "0"
        if p.silent:
            errors += f" ({p.silent} answered with no message)"
        cuts = [f"{p.cut(q):.0f}" for q in (50, 90, 99)]
        top = f"{max(p.latencies_ms, default=float('nan')):.0f}"
        counts = [p.side, p.chats, p.conversations, len(p.latencies_ms), f"{p.turns_per_s:.1f}"]
        rows.append([*counts, *cuts, top, errors, cores_text(p)])
    header = ["bot", "chats", "conversations", "turns", "turns/s", "p50 ms", "p90 ms"]
    header += ["p99 ms", "max ms", "errors", "CPU (cores)"]
    return table(header, rows)


def goals_table(outcome: Outcome) -> str:
    one = outcome.phase(Widget.name, 1)
    many = outcome.phase(Widget.name, outcome.options.chats)
    n = outcome.options.chats

    def met(ok: bool) -> str:
        return "met" if ok else "not met"

    rows = [
        ["1 chat: p50 ≤ 40 ms", f"{one.cut(50):.0f} ms", met(one.cut(50) <= GOAL_P50_1_CHAT_MS)],
        [
            f"{n} chats: turns/s ≥ 3× the stock bot's",
            f"{many.turns_per_s:.1f} turns/s = {outcome.ratio:.2f}×",
            met(outcome.ratio >= GOAL_RATIO),
        ],
        [f"{n} chats: p99 ≤ 1 s", f"{many.cut(99):.0f} ms", met(many.cut(99) <= GOAL_P99_MS)],
    ]
    return table(["goal (issue 15)", "measured", ""], rows)


# What decides the figures: the bench, the parts it starts, the model's inputs.
MEASURED = ["bench/turns.py", "actions", "bot", "handoff", "contracts", "tools/serve.py"]
MEASURED += ["tools/rasa_server.py", "config.yml", "domain.yml", "credentials.yml", "data"]


def commit() -> str:
    """The commit measured, and which of the files that decide the figures differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*git, "status", "--porcelain", "--", *MEASURED],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\n")
    paths = [line[3:] for line in changed if line.strip()]
    return head + (f" (with uncommitted changes to {', '.join(paths)})" if paths else "")


def setup_text(outcome: Outcome) -> str:
    o = outcome.options
    before, after = (
        " / ".join(f"{x:.2f}" for x in load) for load in (outcome.load_before, outcome.load_after)
    )
    trained = (
        f"trained by the bench in a temporary folder ({outcome.stock_train_s:.0f} s)"
        if outcome.stock_train_s is not None
        else f"reused from {o.stock_project}"
    )
    lengths = sorted({len(s) for s in SCRIPTS})
    return "\n".join(
        [
            f"- Machine: {cpu_model()}, {os.cpu_count()} cores, shared by the bench and every "
            f"server; load average (1 / 5 / 15 min) {before} before the run, {after} after.",
            f"- Commit: {commit()}.",
            "- Larkspur: `tools.serve.Stack` (Rasa with the trained model, the action server, "
            "the handoff service on SQLite, the outbox relay) on free ports with a throwaway "
            "var; customers on `/ws/customer` (a turn: send → first bot message after the ack "
            "and the bot's typing event). The session limit per address is lifted: every "
            "bench customer comes from 127.0.0.1.",
            f"- Stock: `rasa init --no-prompt` ({trained}), `rasa run` on loopback, "
            "`POST /webhooks/rest/webhook` (a turn: request → response).",
            f"- Load: {len(SCRIPTS)} scripted conversations of {lengths[0]}–{lengths[-1]} turns "
            "(greeting, FAQs, an order status with its number and postcode, thanks, goodbye), "
            "each a new session; every chat runs them back to back with no pause between "
            f"turns, {o.phase_s:g} s per phase after one unmeasured warm-up pass per side.",
            "- CPU: cores each process used during the phase (CPU time ÷ wall time).",
        ]
    )


def transcript_text(outcome: Outcome) -> str:
    rows = [
        [customer, answer.replace("\n", " ").replace("|", "/")[:110]]
        for customer, answer in outcome.transcript
    ]
    return (
        "The warm-up pass through Larkspur, first bot message of each turn (shortened):\n\n"
        + table(["customer", "bot"], rows)
    )


def write_results(outcome: Outcome, folder: Path = RESULTS) -> Path:
    """Print the tables and write them to ``<folder>/turns.md`` (``turns-quick.md``)."""
    sections = {
        "Setup": setup_text(outcome),
        "Turns": phase_table(outcome),
        "Goals": goals_table(outcome)
        + f"\n\nLarkspur at {outcome.options.chats} chats serves {outcome.ratio:.2f}× the "
        "stock bot's turns/s.",
        "What Larkspur answered": transcript_text(outcome),
    }
    return write(outcome.options.name, outcome.options.command(), sections, folder)


# --- the run -------------------------------------------------------------------------


async def measure(options: Options, folder: Path) -> Outcome:
    """Start both bots, warm them up, run every phase, stop them."""
    load_before = os.getloadavg()
    train_s = None
    project = options.stock_project
    if project is None:
        started = time.monotonic()
        project = init_stock_project(folder / "stock")
        train_s = time.monotonic() - started
    with (
        larkspur(folder / "var") as stack,
        stock_bot(project, folder / "stock-run.log") as (
            stock_url,
            stock_process,
        ),
    ):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            ours, stock = Widget(http, stack.handoff_url), StockBot(http, stock_url)
            print("Warming up …", flush=True)
            ours.transcript = []
            await warm_up(ours)
            transcript, ours.transcript = ours.transcript, None
            await warm_up(stock)
            parts = {name: part.process.pid for name, part in stack.parts.items() if part.process}
            our_pids = {name: parts[name] for name in PROFILED}
            stock_pids = {"rasa": stock_process.pid}
            phases = []
            for chats in (1, options.chats):
                phases.append(await measured(stock, chats, options.phase_s, stock_pids))
                phases.append(await measured(ours, chats, options.phase_s, our_pids))
            if options.profile:
                await profile(ours, options, our_pids)
    outcome = Outcome(options, phases, load_before, os.getloadavg(), train_s, transcript)
    return outcome


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.turns", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    d = Options()
    parser.add_argument("--duration", type=float, default=d.duration, help="seconds per phase")
    parser.add_argument("--chats", type=int, default=d.chats, help="the busy phase's chats")
    parser.add_argument(
        "--quick", action="store_true", help="5 s phases, written to results/turns-quick.md"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile Rasa, the handoff service and the action server with py-spy",
    )
    parser.add_argument(
        "--stock-project",
        type=Path,
        help="a trained `rasa init` project to reuse (default: a new one, trained by the bench)",
    )
    args = parser.parse_args(argv)
    if args.chats < 2 or args.duration <= 0:
        parser.error("--chats must be at least 2 and --duration positive")
    if args.profile and py_spy() is None:
        parser.error(
            "--profile needs py-spy: `.venv/bin/pip install py-spy` (it is not in "
            "requirements.lock, since only this option uses it)"
        )
    return Options(**vars(args))


def main(argv: list[str]) -> int:
    options = parse(argv)
    with TemporaryDirectory(prefix="bench-turns-") as folder:
        outcome = asyncio.run(measure(options, Path(folder)))
    write_results(outcome)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
