"""Start the assistant's servers together, wait until they answer, stop them together.

Four processes: the action server, the handoff service (the agents' queue), the outbox
relay that delivers escalations the handoff service missed while it was down, and Rasa.

``make run`` calls ``python -m tools.serve``; the end-to-end tests use :class:`Stack` with
free ports and a throwaway database, so both run the system the same way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools.net import free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

__all__ = ["ROOT", "Stack", "free_port", "main", "wait_http"]


@dataclass
class Stack:
    """Rasa, the action server and the handoff service, with their ports, logs and databases."""

    model: Path
    rasa_port: int = 5005
    actions_port: int = 5055
    var_dir: Path = ROOT / "var"
    store_url: str | None = None
    tracker_db: Path | None = None
    handoff_port: int = 5080
    # The action server proves itself to the handoff service with this; new for each run
    # unless HANDOFF_SERVICE_TOKEN is set.
    service_token: str = field(
        default_factory=lambda: os.environ.get("HANDOFF_SERVICE_TOKEN") or secrets.token_urlsafe(24)
    )
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def _env(self) -> dict[str, str]:
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
        env["HANDOFF_SERVICE_TOKEN"] = self.service_token
        env["HANDOFF_RASA_URL"] = self.rasa_url
        return env

    def _endpoints(self) -> Path:
        tracker_db = self.tracker_db or self.var_dir / "rasa-tracker.db"
        path = self.var_dir / f"endpoints-{self.rasa_port}.yml"
        path.write_text(
            f'action_endpoint:\n  url: "{self.actions_url}/webhook"\n'
            f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tracker_db}"\n'
            f"nlg:\n  type: bot.nlg.EmpatheticNLG\n  settings_file: {ROOT / 'escalation.yml'}\n"
        )
        return path

    def _spawn(self, name: str, args: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.var_dir / "log" / f"{name}-{self.rasa_port}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self._env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process, log

    def start(self, progress: bool = False) -> None:
        """Start both servers and return once both answer."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        say: Callable[..., None] = print if progress else (lambda *a, **k: None)
        started = time.monotonic()
        say(f"Starting the action server on port {self.actions_port} …", flush=True)
        actions = self._spawn_actions()
        say(f"Starting the handoff service on port {self.handoff_port} …", flush=True)
        handoff = self._spawn_handoff()
        say(
            f"Starting the Rasa server on port {self.rasa_port} (loading {self.model.name}) …",
            flush=True,
        )
        rasa = self._spawn_rasa()
        try:
            self._wait_ready(actions, handoff, rasa, say, started)
        except Exception:
            self.stop()
            raise

    def _spawn_actions(self) -> tuple[subprocess.Popen[bytes], Path]:
        """The action server (``rasa run actions``)."""
        return self._spawn(
            "actions",
            [
                str(BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(self.actions_port),
            ],
        )

    def _spawn_handoff(self) -> tuple[subprocess.Popen[bytes], Path]:
        """The handoff service, and the relay that drains the action server's outbox into it."""
        handoff = self._spawn("handoff", [str(BIN / "python"), "-m", "handoff"])
        self._spawn(
            "outbox", [str(BIN / "python"), "-m", "actions.outbox", "drain", "--every", "5"]
        )
        return handoff

    def _spawn_rasa(self) -> tuple[subprocess.Popen[bytes], Path]:
        """The Rasa server with its HTTP API on (``--enable-api``, no token)."""
        return self._spawn(
            "rasa",
            [
                str(BIN / "rasa"),
                "run",
                "--enable-api",
                "--cors",
                "*",
                "--port",
                str(self.rasa_port),
                "--model",
                str(self.model),
                "--endpoints",
                str(self._endpoints()),
                "--credentials",
                str(ROOT / "credentials.yml"),
            ],
        )

    def _wait_ready(
        self,
        actions: tuple[subprocess.Popen[bytes], Path],
        handoff: tuple[subprocess.Popen[bytes], Path],
        rasa: tuple[subprocess.Popen[bytes], Path],
        say: Callable[..., None],
        started: float,
    ) -> None:
        """Wait for each server's health endpoint in turn, saying when each one answers."""
        for name, url, (process, log), timeout in (
            ("action server", f"{self.actions_url}/health", actions, 120),
            ("handoff service", f"{self.handoff_url}/healthz", handoff, 60),
            ("Rasa server", f"{self.rasa_url}/status", rasa, 300),
        ):
            wait_http(url, process, timeout, log)
            say(f"  {name} ready ({time.monotonic() - started:.0f} s)", flush=True)

    def stop(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL after a grace period."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--handoff-port", type=int, default=5080)
    args = parser.parse_args(argv)
    stack = Stack(args.model, args.rasa_port, args.actions_port, handoff_port=args.handoff_port)
    stack.start(progress=True)
    print(
        f"\nThe Larkspur assistant is running:\n"
        f"  Rasa server (REST channel)  {stack.rasa_url}/webhooks/rest/webhook\n"
        f"  Rasa HTTP API               {stack.rasa_url}/status\n"
        f"  Action server               {stack.actions_url}/health\n"
        f"  Demo store with the chat    {stack.handoff_url}/demo\n"
        f"  Agents' console             {stack.handoff_url}/console\n"
        f"  Handoff service API         {stack.handoff_url}/openapi.json\n"
        f"  Logs                        {stack.var_dir / 'log'}\n"
        f"Try:  curl -s {stack.rasa_url}/webhooks/rest/webhook "
        f'-d \'{{"sender": "me", "message": "how much is shipping?"}}\'\n'
        f"Add an agent:  make agent NAME=ana   (then POST {stack.handoff_url}/agent/login)\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    # Ctrl-C and `kill` both stop the servers, even when started from a script that
    # ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(p.poll() is None for p in stack.processes):
            time.sleep(1)
        print(
            "A server stopped unexpectedly; see the logs above. Stopping the rest.", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
