"""Escalations stored while the handoff service was down reach it once it comes up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from actions.outbox import Outbox
from tests.helpers.service import SERVICE_TOKEN, record
from tools.net import free_port, wait_http
from tools.serve import ROOT


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    return dict(
        os.environ,
        OUTBOX_DATABASE_URL=f"sqlite:///{tmp_path / 'outbox.db'}",
        HANDOFF_URL=f"http://127.0.0.1:{port}",
        HANDOFF_PORT=str(port),
        HANDOFF_SERVICE_TOKEN=SERVICE_TOKEN,
        HANDOFF_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
    )


def spawn(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - fixed argv built here, no shell
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    running: list[subprocess.Popen[bytes]] = []
    yield running
    for process in running:
        process.terminate()
        process.wait(timeout=10)


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, process: subprocess.Popen[bytes]
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout_s`` or if ``process`` exits."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, f"exited with {process.returncode} before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.1)


def handoff_rows(database: Path) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT idempotency_key, state FROM handoffs")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


async def test_the_relay_delivers_each_waiting_escalation_once_when_the_service_starts(
    env: dict[str, str], tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    outbox = Outbox(env["OUTBOX_DATABASE_URL"])
    records = [record("conv-" + uuid.uuid4().hex[:6]) for _ in range(3)]
    for item in records:
        outbox.add(item["idempotency_key"], item)
    relay = ["-m", "actions.outbox", "drain", "--every", "0.5"]
    processes.append(spawn(env, relay, tmp_path / "relay.log"))
    # Failed rounds while the service is down: every record tried, none delivered.

    def tried() -> bool:
        return all(p.attempts >= 1 for p in outbox.pending())

    wait_until(tried, 20, "attempt at every record", processes[-1])
    assert len(outbox.pending()) == 3
    assert all(p.attempts >= 1 for p in outbox.pending())

    service = spawn(env, ["-m", "handoff"], tmp_path / "handoff.log")
    processes.append(service)
    wait_http(env["HANDOFF_URL"] + "/healthz", service, 30, tmp_path / "handoff.log")
    wait_until(lambda: not outbox.pending(), 20, "delivery of every record", processes[0])
    assert outbox.pending() == []

    # Delivering the same records again (a crash between post and mark) changes nothing.
    again = await outbox.deliver(records[0]["idempotency_key"], env["HANDOFF_URL"], SERVICE_TOKEN)
    assert again is not None and again["created"] is False
    rows = handoff_rows(tmp_path / "handoff.db")
    assert sorted(k for k, _ in rows) == sorted(r["idempotency_key"] for r in records)
    assert {state for _, state in rows} == {"queued"}


async def test_a_wrong_service_token_keeps_the_record_waiting(
    env: dict[str, str], tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    service = spawn(env, ["-m", "handoff"], tmp_path / "handoff.log")
    processes.append(service)
    wait_http(env["HANDOFF_URL"] + "/healthz", service, 30, tmp_path / "handoff.log")
    outbox = Outbox(env["OUTBOX_DATABASE_URL"])
    item = record()
    outbox.add(item["idempotency_key"], item)
    assert await outbox.deliver_pending(env["HANDOFF_URL"], "not-the-token") == {}
    [waiting] = outbox.pending()
    assert waiting.attempts == 1
