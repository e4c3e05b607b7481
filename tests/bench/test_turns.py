"""The turn benchmark's core against stand-ins that speak the same wire: the customer
socket of docs/PROTOCOL.md and Rasa's REST channel. No model, no Rasa, a second or two."""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench import turns
from bench.turns import Flames, Options, Outcome, Phase, StockBot, Widget, run_phase


def fake_handoff(system_answers: bool = False) -> web.Application:
    """Sessions and a customer socket. Each answer has a second bot message that lands
    only after the customer's next message, as it can when the service is busy; the
    bot's ``typing`` for a message comes after the last reply to the one before."""
    ids = itertools.count(1)

    async def session(request: web.Request) -> web.Response:
        n = next(ids)
        return web.json_response({"conversation_id": f"c-{n}", "token": f"t-{n}"}, status=201)

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        seq, trailer = 0, None

        async def say(speaker: str, text: str, client_id: str | None = None) -> None:
            nonlocal seq
            seq += 1
            event = {"type": "message", "seq": seq, "speaker": speaker, "text": text}
            await ws.send_json({**event, "client_id": client_id, "buttons": []})

        async for frame in ws:
            data = frame.json()
            if data["type"] == "hello":
                await ws.send_json({"type": "welcome", "conversation_id": "c", "owner": "bot"})
                continue
            await ws.send_json({"type": "ack", "client_id": data["client_id"], "seq": seq + 1})
            await say("customer", data["text"], data["client_id"])
            if trailer:
                await say("bot", trailer)
            await ws.send_json({"type": "typing", "speaker": "bot"})
            await say("system" if system_answers else "bot", f"answer to {data['text']}")
            trailer = f"more on {data['text']}"
        return ws

    app = web.Application()
    app.router.add_post("/sessions", session)
    app.router.add_get("/ws/customer", socket)
    return app


def fake_stock() -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        text = (await request.json())["message"]
        return web.json_response([] if text == "80302" else [{"text": f"stock: {text}"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return app


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_a_turn_is_answered_by_the_reply_to_its_own_message() -> None:
    async with serving(fake_handoff()) as url, aiohttp.ClientSession() as http:
        widget = Widget(http, url)
        widget.transcript = []
        phase = Phase(widget.name, 1)
        await widget.conversation(turns.SCRIPTS[0], phase, deadline=float("inf"))
    assert not phase.errors
    assert len(phase.latencies_ms) == len(turns.SCRIPTS[0])
    assert widget.transcript == [(text, f"answer to {text}") for text in turns.SCRIPTS[0]]


async def test_an_answer_from_anyone_but_the_bot_is_an_error() -> None:
    async with serving(fake_handoff(system_answers=True)) as url, aiohttp.ClientSession() as http:
        phase = Phase("ours", 1)
        await Widget(http, url).conversation(["hi", "thanks"], phase, deadline=float("inf"))
    assert phase.latencies_ms == []
    assert phase.errors == Counter({"answered by system: answer to hi": 1})


async def test_a_short_phase_on_each_side_counts_turns_conversations_and_silence() -> None:
    async with (
        serving(fake_handoff()) as ours,
        serving(fake_stock()) as stock,
        aiohttp.ClientSession() as http,
    ):
        widget = await run_phase(Widget(http, ours), 3, 0.5)
        rest = await run_phase(StockBot(http, stock), 3, 0.5)
    for phase in (widget, rest):
        assert not phase.errors
        assert phase.conversations > 3  # each chat starts new ones as its scripts end
        assert phase.turns_per_s > 0 and phase.cut(50) <= phase.cut(99)
    assert widget.silent == 0 and rest.silent > 0  # "80302" means nothing to the stock bot


def test_flames_count_own_and_total_time_per_frame() -> None:
    raw = (
        "<module> (tools/rasa_server.py);handle (rasa/core/agent.py);commit (sqlalchemy/orm.py) 6\n"
        "<module> (tools/rasa_server.py);handle (rasa/core/agent.py) 3\n"
        "<module> (tools/rasa_server.py);dumps (json/encoder.py) 1\n"
    )
    flames = Flames.read(raw)
    assert flames.samples == 10
    assert flames.own["commit (sqlalchemy/orm.py)"] == 6
    assert flames.total["handle (rasa/core/agent.py)"] == 9
    assert flames.packages == Counter({"sqlalchemy": 6, "rasa": 3, "json": 1})
    assert flames.anchors == Counter(
        {"handle (rasa/core/agent.py)": 9, "dumps (json/encoder.py)": 1}
    )
    assert "<module> (tools/rasa_server.py)" not in flames.below_entry()
    assert "| 1 | 60.0 % | 6 | `commit (sqlalchemy/orm.py)` |" in flames.top(flames.own)


def phase(side: str, chats: int, turns_per_s: float, latency_ms: float) -> Phase:
    done = Phase(side, chats, [latency_ms] * int(turns_per_s * 10), window_s=10)
    done.conversations = 3
    return done


@pytest.mark.parametrize(("ours_p50", "verdict"), [(30.0, "| met |"), (90.0, "| not met |")])
def test_the_results_compare_with_the_stock_bot_and_judge_the_goals(
    tmp_path: Path, ours_p50: float, verdict: str
) -> None:
    phases = [
        phase(StockBot.name, 1, 10, 50),
        phase(Widget.name, 1, 20, ours_p50),
        phase(StockBot.name, 20, 10, 900),
        phase(Widget.name, 20, 40, 500),
    ]
    outcome = Outcome(Options(), phases, (1.0, 1.0, 1.0), (1.5, 1.0, 1.0), 100.0)
    text = turns.write_results(outcome, tmp_path).read_text()
    assert outcome.ratio == 4.0
    assert "Produced by `make bench-turns`" in text
    assert "load average (1 / 5 / 15 min) 1.00 / 1.00 / 1.00 before the run" in text
    assert f"| 1 chat: p50 ≤ 40 ms | {ours_p50:.0f} ms {verdict}" in text
    assert "| 20 chats: turns/s ≥ 3× the stock bot's | 40.0 turns/s = 4.00× | met |" in text
    assert "| 20 chats: p99 ≤ 1 s | 500 ms | met |" in text
