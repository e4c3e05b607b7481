"""The relay benchmark at toy size: the real service, a dozen sockets, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from bench import relay
from bench.relay import Event, Ledger, Options, Peer, measure, write_results


async def test_a_short_relay_run_delivers_everything_once_and_writes_its_tables(
    tmp_path: Path,
) -> None:
    options = Options(customers=10, agents=2, seconds=3, interval=0.5, grace=3)
    outcome = await measure(options)
    ledger = outcome.ledger
    assert (outcome.lost, ledger.duplicated, ledger.disordered) == (0, 0, 0)
    assert not ledger.errors
    assert len(ledger.delivered) == len(ledger.acked) == len(ledger.sent) > 20
    assert outcome.latencies_ms("c") and outcome.latencies_ms("r")  # both directions

    path = write_results(outcome, tmp_path)  # not results/: a toy run must not replace it
    text = path.read_text()
    assert path == tmp_path / "relay.md"
    assert "| customer → agent | " in text and "| agent → customer | " in text
    assert "| lost (acknowledged, never delivered) | 0 |" in text
    assert "`python -m bench.relay --customers 10 --agents 2 --seconds 3" in text


async def test_sockets_whose_line_drops_resync_without_losing_or_doubling_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drops = random.Random(7)  # noqa: S311 - test data or jitter, not a secret
    dropped = 0
    draining = False
    receive, drain = Peer.receive, relay.drain

    async def dropping(self: Peer, event: Event, on_message: Any) -> None:
        nonlocal dropped
        await receive(self, event, on_message)
        if draining or self.socket is None:
            return
        transport = self.socket._response.connection.transport  # type: ignore[union-attr]
        if not transport.is_closing() and drops.random() < 0.03:  # one drop per socket
            dropped += 1
            transport.abort()

    async def drain_after_the_last_drop_is_noticed(ledger: Ledger, quiet_s: float) -> None:
        nonlocal draining
        draining = True
        await asyncio.sleep(1)  # a drop just before this must not race the bench's close
        await drain(ledger, quiet_s)

    monkeypatch.setattr(Peer, "receive", dropping)
    monkeypatch.setattr(relay, "drain", drain_after_the_last_drop_is_noticed)
    options = Options(customers=10, agents=2, seconds=4, interval=0.5, grace=3)
    outcome = await measure(options)
    ledger = outcome.ledger
    assert dropped > 3
    assert (outcome.lost, ledger.duplicated, ledger.disordered) == (0, 0, 0)
    assert len(ledger.delivered) == len(ledger.acked) == len(ledger.sent)
    assert sum(ledger.errors.values()) == dropped  # each drop seen, each reconnected
