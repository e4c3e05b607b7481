"""Publishing without dropping a conversation, two ways, side by side under 10 chatting
customers: Rasa loads the model over its HTTP API (``PUT /model``, the studio's way), or a
second Rasa with the model takes over behind a proxy.

    make bench-takeover
    python -m bench.takeover [--switches 2]

The whole system (``bench.turns.larkspur``) with Debian's nginx between the handoff service
and Rasa, where a production install would have a proxy anyway. Ten customers chat through
the customer socket (``bench.studio``'s chatters with the studio bench's later messages)
while the model is switched ``--switches`` times each way:

- **none**: no switch, the baseline (after a pass that warms the system up, not counted);
- **load**: ``PUT /model`` on the Rasa that serves; live when Rasa answers 204.
- **takeover**: a second Rasa on the same tracker store and action server starts with the
  model; once it answers and has parsed a few messages (its first parse is the slow one),
  nginx's upstream is pointed at it and nginx reloaded (its old worker finishes the
  requests it holds); the first Rasa is then stopped with SIGTERM.
  Live when nginx has logged the first request the new Rasa answered (its access log says
  which Rasa served each request).

Both switch to the model file the system started with, so the figures are the switch's,
not a model's. Each way runs for at least ``RUN_S`` seconds. For each: turns answered,
failed, lost, answered twice, seconds from the start of a switch to live, and turn latency
over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp

from bench.report import table, write
from bench.studio import BENCH_ENV, CHATTERS, Traffic, chatter, machine, tracker_user_texts
from bench.turns import larkspur
from handoff.clients import rasa
from handoff.settings import Settings
from tools.net import free_port
from tools.serve import Part, Stack

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
WARM_UP = ("hello", "how much is shipping to canada", "where is my order")
WARM_S = 5.0  # the chats are under way before the first switch, and between switches
# Every way runs at least this long, so their latencies cover alike stretches of time (two
# takeovers take about this long on 2 cores); a pass before them, not counted, warms up.
RUN_S, WARM_UP_S = 80.0, 15.0
# The query string carries Rasa's token: the log keeps the path only.
CONFIG = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format served '$upstream_addr $status $request_time $uri';
    access_log {dir}/access.log served;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    upstream rasa {{
        server 127.0.0.1:{upstream};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


class Front:
    """nginx on ``port`` in front of one Rasa at a time."""

    def __init__(self, directory: Path, port: int) -> None:
        self.dir, self.port = directory, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def point_at(self, upstream: int) -> None:
        config = CONFIG.format(dir=self.dir, port=self.port, upstream=upstream)
        (self.dir / "nginx.conf").write_text(config)

    def _command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), *extra]

    def start(self, upstream: int) -> None:
        if not Path(NGINX).exists():
            raise SystemExit(f"{NGINX} is missing: `make /usr/sbin/nginx` installs it")
        self.point_at(upstream)
        checked = subprocess.run(self._command("-t"), capture_output=True, text=True)  # noqa: S603 - fixed argv built here
        if checked.returncode:
            raise SystemExit(f"nginx refused its configuration:\n{checked.stderr}")
        with (self.dir / "stdout.log").open("ab") as out:
            self.process = subprocess.Popen(self._command(), stdout=out, stderr=out)  # noqa: S603 - fixed argv built here

    def reload(self, upstream: int) -> None:
        """Point at ``upstream`` and reload: new workers take new requests, the old one
        finishes the requests it holds and exits."""
        assert self.process is not None  # noqa: S101 - started before any switch
        self.point_at(upstream)
        self.process.send_signal(signal.SIGHUP)

    def served_by(self) -> list[str]:
        path = self.dir / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [line.split(" ", 1)[0] for line in lines]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def fronted_stack(folder: Path) -> Iterator[tuple[Stack, Front]]:
    front = Front(folder / "nginx", free_port())
    with larkspur(folder / "var", env=BENCH_ENV, rasa_front=front.url) as stack:
        front.start(stack.rasa_port)
        try:
            yield stack, front
        finally:
            front.stop()


def settings_for(stack: Stack, front: Front) -> Settings:
    return Settings(rasa_url=front.url, rasa_token=stack.keys.rasa_token)


async def load_switch(http: aiohttp.ClientSession, stack: Stack, front: Front) -> float:
    started = time.monotonic()
    await rasa.load_model(http, settings_for(stack, front), str(stack.model))
    return time.monotonic() - started


class Takeover:
    """Which Rasa serves now, and how another takes its place."""

    def __init__(self, stack: Stack, front: Front) -> None:
        self.stack, self.front = stack, front
        self.serving: Part = stack.parts["rasa"]

    async def switch(self) -> float:
        started = time.monotonic()
        port = free_port()
        successor = self.stack.rasa_part(port)
        successor.spawn()
        await asyncio.to_thread(successor.wait_ready)
        await self._warm(f"http://127.0.0.1:{port}")
        self.front.reload(port)
        await self._until_served_by(port)
        live = time.monotonic() - started
        retired = self.serving
        retired.stop()  # SIGTERM: Rasa's server finishes what it serves, then exits
        await asyncio.to_thread(retired.reap)
        self.serving = successor
        return live

    async def _warm(self, url: str) -> None:
        """A few parses before any customer's turn reaches the new Rasa."""
        token = {"token": self.stack.keys.rasa_token}
        async with aiohttp.ClientSession() as http:
            for text in WARM_UP:
                async with http.post(f"{url}/model/parse", json={"text": text}, params=token) as r:
                    r.raise_for_status()

    async def _until_served_by(self, port: int) -> None:
        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while address not in self.front.served_by():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no request reached the Rasa on {port} within 60 s")
            await asyncio.sleep(0.05)  # polled: the chats' own turns show the switch


async def one_way(
    http: aiohttp.ClientSession,
    stack: Stack,
    front: Front,
    way: str,
    switches: int,
    texts: list[str],
) -> tuple[list[object], list[float]]:
    """A row of the table for ``way``, and the seconds to live of each switch."""
    stop, tally, turns = asyncio.Event(), Counter[str](), list[float]()
    chats = [
        asyncio.create_task(chatter(http, stack, texts, stop, tally, turns))
        for _ in range(CHATTERS)
    ]
    takeover = Takeover(stack, front) if way == "takeover" else None
    started = time.monotonic()
    await asyncio.sleep(WARM_S)
    lives = []
    for _ in range(switches if way in ("load", "takeover") else 0):
        if takeover is None:
            lives.append(await load_switch(http, stack, front))
        else:
            lives.append(await takeover.switch())
        await asyncio.sleep(WARM_S)
    duration = RUN_S if way != "warm-up" else WARM_UP_S
    await asyncio.sleep(max(0.0, started + duration - time.monotonic()))
    stop.set()
    records = [record for one in await asyncio.gather(*chats) for record in one]
    twice = 0
    for conversation_id, *sent in records:
        texts_seen = await asyncio.to_thread(tracker_user_texts, stack, conversation_id, front.url)
        seen = Counter(texts_seen)
        twice += sum(max(0, seen[t] - n) for t, n in Counter(sent).items())
    ordered = sorted(turns)
    row: list[object] = [
        way,
        tally["answered"],
        tally["failed"],
        tally["lost"],
        twice,
        max(lives) if lives else "-",
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        ordered[-1] * 1000,
    ]
    return row, lives


async def bench(switches: int) -> dict[str, str]:
    traffic = Traffic.load()
    texts = [m["text"] for m in traffic.later if m["expect"] != "request_human"]
    rows: list[list[object]] = []
    every: list[tuple[str, int, float]] = []
    with (
        TemporaryDirectory(prefix="bench-takeover-") as tmp,
        fronted_stack(Path(tmp)) as (
            stack,
            front,
        ),
    ):
        async with aiohttp.ClientSession() as http:
            for way in ("warm-up", "none", "load", "takeover"):
                print(f"… {CHATTERS} customers chat, the model switched by: {way}")
                row, lives = await one_way(http, stack, front, way, switches, texts)
                if way != "warm-up":
                    rows.append(row)
                every += [(way, n, s) for n, s in enumerate(lives, 1)]
    header = (
        "way",
        "turns answered",
        "failed",
        "lost",
        "answered twice",
        "slowest switch to live (s)",
        "turn p50 (ms)",
        "turn p99 (ms)",
        "slowest turn (ms)",
    )
    return {
        f"{CHATTERS} customers, {switches} switches each way": table(header, rows),
        "Each switch": table(("way", "switch", "seconds to live"), every),
        "Machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--switches", type=int, default=2)
    args = parser.parse_args()
    sections = asyncio.run(bench(args.switches))
    write("takeover", "make bench-takeover", sections)


if __name__ == "__main__":
    main()
