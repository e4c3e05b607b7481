"""Start the assistant's servers together, keep them running, stop them together.

Four processes: the action server, the handoff service (the agents' queue and the only
door customers use), the outbox relay that delivers escalations the handoff service
missed while it was down, and Rasa.

Rasa and the action server listen on loopback (``--internal-host`` for a private
network), and each door between the parts needs the install's key from ``var/keys.json``
(:mod:`tools.keys`): Rasa's HTTP API and its handoff channel want ``RASA_TOKEN``, the
action server ``ACTIONS_TOKEN``, the handoff service's escalation route the service token.

``make run`` calls ``python -m tools.serve``, which restarts a part that dies (with
backoff) and says so; the end-to-end tests use :class:`Stack` with free ports and a
throwaway ``var``, so both run the system the same way.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from tools import keys
from tools.net import free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# A part that ran this long before dying is restarted at once; one that keeps dying
# sooner waits twice as long each time, up to MAX_BACKOFF_S.
STABLE_S, MAX_BACKOFF_S = 30.0, 30.0

__all__ = ["ROOT", "Part", "Stack", "free_port", "main", "wait_http"]
Say = Callable[..., None]
# Rasa parses one message at a time: the numeric libraries' thread pools only spin on its
# small matrices (measured: a parse used 1.84 cores with them, 0.97 without, equally fast).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class Part:
    """One supervised process: how to start it, how to tell it is ready, how it is doing."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    health: str | None = None  # a URL that answers 200 once the part is ready
    ready_timeout: float = 60
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0  # deaths in a row, each within STABLE_S of its start
    restart_at: float | None = None  # when a dead part is started again

    def spawn(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv built here, no shell
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at, self.restart_at = time.monotonic(), None

    def wait_ready(self) -> None:
        if self.health and self.process is not None:
            wait_http(self.health, self.process, self.ready_timeout, self.log)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def reap(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Stack:
    """Rasa, the action server, the handoff service and the outbox relay."""

    model: Path
    rasa_port: int = 5005
    actions_port: int = 5055
    var_dir: Path = ROOT / "var"
    store_url: str | None = None
    tracker_db: Path | None = None
    # Rasa's trackers in PostgreSQL (postgresql://user:password@host:port/db) instead of
    # SQLite, and its conversation locks in Redis (redis://host:port/db) instead of in
    # each process: what several Rasa servers need to share conversations.
    tracker_url: str | None = None
    lock_url: str | None = None
    handoff_port: int = 5080
    # Where Rasa and the action server listen: loopback unless on a private network.
    internal_host: str = "127.0.0.1"
    # Where the studio writes editors' labels (data/) and installs published models.
    content_dir: Path = ROOT
    # Where the handoff service reaches Rasa, if not straight at it (a proxy in front).
    rasa_front: str | None = None
    parts: dict[str, Part] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def keys(self) -> keys.Keys:
        return keys.load(self.var_dir)

    @property
    def service_token(self) -> str:
        return self.keys.handoff_service_token

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.internal_host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.internal_host}:{self.actions_port}"

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [p.process for p in self.parts.values() if p.process is not None]

    def _env(self, **extra: str) -> dict[str, str]:
        """The environment every part shares, plus the keys this part needs."""
        env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
            RASA_TELEMETRY_ENABLED="false",
        )
        env["STORE_DATABASE_URL"] = self.store_url or f"sqlite:///{self.var_dir / 'store.db'}"
        env.setdefault("SPACY_MODEL_PATH", str(ROOT / "models/spacy/en_larkspur"))
        env.setdefault("OUTBOX_DATABASE_URL", f"sqlite:///{self.var_dir / 'outbox.db'}")
        env.setdefault("HANDOFF_DATABASE_URL", f"sqlite+aiosqlite:///{self.var_dir / 'handoff.db'}")
        env["HANDOFF_URL"] = self.handoff_url
        env["HANDOFF_PORT"] = str(self.handoff_port)
        env["HANDOFF_RASA_URL"] = self.rasa_front or self.rasa_url
        return {**env, **extra}

    def _endpoints(self, port: int | None = None) -> Path:
        """Rasa's endpoints: the action server (with its token, read from the environment
        so the file holds no secret), the tracker store, the lock store and the NLG."""
        path = self.var_dir / f"endpoints-{port or self.rasa_port}.yml"
        path.write_text(
            f'action_endpoint:\n  url: "{self.actions_url}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTIONS_TOKEN}\n"  # unquoted: Rasa fills it in
            + self._tracker_store()
            + self._lock_store()
            + f"nlg:\n  type: bot.nlg.EmpatheticNLG\n  settings_file: {ROOT / 'escalation.yml'}\n"
        )
        return path

    def _tracker_store(self) -> str:
        if self.tracker_url is None:
            tracker_db = self.tracker_db or self.var_dir / "rasa-tracker.db"
            return f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tracker_db}"\n'
        url = urlsplit(self.tracker_url)
        lines = ["tracker_store:", "  type: SQL", '  dialect: "postgresql"']
        lines += [f'  url: "{url.hostname}"', f"  port: {url.port or 5432}"]
        lines += [f'  db: "{url.path.lstrip("/")}"', f'  username: "{url.username or ""}"']
        if url.password:
            lines.append(f'  password: "{url.password}"')
        return "\n".join(lines) + "\n"

    def _lock_store(self) -> str:
        if self.lock_url is None:
            return ""
        url = urlsplit(self.lock_url)
        db = url.path.lstrip("/") or "0"
        return (
            f'lock_store:\n  type: "redis"\n  url: "{url.hostname}"\n  port: {url.port or 6379}\n'
            f"  db: {db}\n"
        )

    def _part(
        self, name: str, args: list[str], health: str | None, timeout: float, **env: str
    ) -> Part:
        log = self.var_dir / "log" / f"{name}-{self.rasa_port}.log"
        part = Part(name, args, self._env(**env), log, health, timeout)
        self.parts[name] = part
        return part

    def _define(self) -> list[Part]:
        """The four parts, in the order they start."""
        k, python = self.keys, str(BIN / "python")
        actions = self._part(
            "actions",
            [
                python,
                "-m",
                "actions.server",
                "--host",
                self.internal_host,
                "--port",
                str(self.actions_port),
            ],
            f"{self.actions_url}/health",
            120,
            ACTIONS_TOKEN=k.actions_token,
            PII_KEY=k.pii_key,
            HANDOFF_SERVICE_TOKEN=k.handoff_service_token,
            LIVE_ARTICLES=str(self.var_dir / "studio" / "live-articles"),
        )
        handoff = self._part(
            "handoff",
            [python, "-m", "handoff"],
            f"{self.handoff_url}/healthz",
            60,
            HANDOFF_SERVICE_TOKEN=k.handoff_service_token,
            HANDOFF_RASA_TOKEN=k.rasa_token,
            HANDOFF_PII_KEY=k.pii_key,
            HANDOFF_IDENTITY_SECRET=k.identity_secret,
            HANDOFF_CONTENT_DIR=str(self.content_dir),
            HANDOFF_RASA_MODEL=str((ROOT / self.model).resolve()),
            HANDOFF_STUDIO_DIR=str(self.var_dir / "studio"),
        )
        outbox = self._part(
            "outbox",
            [python, "-m", "actions.outbox", "drain", "--every", "5"],
            None,
            0,
            HANDOFF_SERVICE_TOKEN=k.handoff_service_token,
        )
        return [actions, handoff, outbox, self.rasa_part()]

    def rasa_part(self, port: int | None = None, model: Path | None = None) -> Part:
        """Rasa on ``port`` (its own, unless another is asked for: a second Rasa on the
        same tracker store and action server) serving ``model``; defined, not started."""
        k, python = self.keys, str(BIN / "python")
        port = port or self.rasa_port
        url = f"http://{self.internal_host}:{port}"
        name = "rasa" if port == self.rasa_port else f"rasa-{port}"
        return self._part(
            name,
            [
                python,
                "-m",
                "tools.rasa_server",
                *("--interface", self.internal_host, "--port", str(port)),
                *("--model", str(model or self.model), "--endpoints", str(self._endpoints(port))),
                *("--credentials", str(ROOT / "credentials.yml")),
            ],
            f"{url}/status?token={k.rasa_token}",
            300,
            RASA_TOKEN=k.rasa_token,
            ACTIONS_TOKEN=k.actions_token,
            LARKSPUR_LIVE_MODEL=str(self.var_dir / "studio" / "live-model"),
            **ONE_THREAD,
        )

    def start(self, progress: bool = False) -> None:
        """Start every part and return once each answers."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        say: Say = print if progress else (lambda *a, **k: None)
        started = time.monotonic()
        parts = self._define()
        for part in parts:
            say(f"Starting the {part.name} part …", flush=True)
            part.spawn()
        try:
            for part in parts:
                part.wait_ready()
                say(f"  {part.name} ready ({time.monotonic() - started:.0f} s)", flush=True)
        except Exception:
            self.stop()
            raise

    def check(self, say: Say) -> None:
        """Restart each part that died, once its backoff has passed; say what happens."""
        with self._lock:
            now = time.monotonic()
            for part in self.parts.values():
                if part.running or part.process is None:
                    continue
                if part.restart_at is None:
                    ran = now - part.started_at
                    part.failures = part.failures + 1 if ran < STABLE_S else 1
                    delay = min(MAX_BACKOFF_S, 2.0 ** (part.failures - 1) - 1)
                    part.restart_at = now + delay
                    code = part.process.returncode
                    say(
                        f"The {part.name} part stopped (exit code {code}) after {ran:.0f} s; "
                        f"restarting it in {delay:.0f} s. Its log: {part.log}",
                        flush=True,
                    )
                if now >= part.restart_at:
                    part.spawn()
                    say(f"The {part.name} part was restarted.", flush=True)

    def supervise(self, stopping: threading.Event, say: Say = print, every: float = 0.5) -> None:
        """Keep every part running until ``stopping`` is set."""
        while not stopping.wait(every):
            self.check(say)

    def stop(self) -> None:
        """Stop every part: SIGTERM, then SIGKILL after a grace period."""
        with self._lock:
            for part in self.parts.values():
                part.stop()
            for part in self.parts.values():
                part.reap()
            self.parts.clear()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--handoff-port", type=int, default=5080)
    parser.add_argument(
        "--internal-host",
        default=os.environ.get("LARKSPUR_INTERNAL_HOST", "127.0.0.1"),
        help="where Rasa and the action server listen (default loopback; a private "
        "network address only if other machines must reach them)",
    )
    args = parser.parse_args(argv)
    stack = Stack(
        args.model,
        args.rasa_port,
        args.actions_port,
        handoff_port=args.handoff_port,
        internal_host=args.internal_host,
    )
    stack.start(progress=True)
    print(
        f"\nThe Larkspur assistant is running:\n"
        f"  Demo store with the chat    {stack.handoff_url}/demo\n"
        f"  Agents' console             {stack.handoff_url}/console\n"
        f"  Editors' studio             {stack.handoff_url}/studio\n"
        f"  Handoff service API         {stack.handoff_url}/openapi.json\n"
        f"  Rasa (with its token)       {stack.rasa_url}   tokens: {stack.var_dir / keys.FILE}\n"
        f"  Action server (Rasa only)   {stack.actions_url}\n"
        f"  Logs                        {stack.var_dir / 'log'}\n"
        f"Add an agent:  make agent NAME=ana   (then sign in at {stack.handoff_url}/console)\n"
        f"Add an editor: make editor NAME=eve  (then sign in at {stack.handoff_url}/studio)\n"
        f"A part that stops is restarted. Press Ctrl-C to stop everything.",
        flush=True,
    )
    # Ctrl-C and `kill` both stop the servers, even when started from a script that
    # ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.supervise(threading.Event())
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
