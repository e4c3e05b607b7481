"""Kill -9 each part while five customers chat: the supervisor brings it back, and nothing
a customer was told is lost or doubled.

The stack here is its own (a throwaway ``var``, free ports) under ``Stack.supervise`` in a
background thread, as ``make run`` runs it. Five customers speak the widget's protocol
(``tests/helpers/widget_client.py``), each asking "how much is shipping?" again and again,
and each part is killed in turn with a question in flight: Rasa, the action server, the
handoff service, then the outbox relay.

What "answered once" means: every customer message is followed, before the customer's
next one, by exactly one reply, either the bot's answer (with "$6.95") or, only while Rasa
is down, the service's "briefly unavailable" system message. A question cut off by the
handoff service's death is answered once after its restart, never twice and never not.
After the relay's restart, escalations still reach the queue, both the action server's
and one left waiting in the outbox.

Then the action server is held down (killed, its port taken): the supervisor retries it
with growing pauses and it comes back once it can start; a customer who asks for a person
meanwhile (Rasa's call to the action is cut off, so Rasa answers nothing) is told so and
queued by the handoff service.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import signal
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from actions.outbox import Outbox
from actions.store import get_store, seed
from handoff.usecases import UNAVAILABLE
from tests.helpers.service import record
from tests.helpers.stack import call, signed_in_agent
from tests.helpers.widget_client import WidgetClient
from tools.net import free_port
from tools.serve import MAX_BACKOFF_S, Part, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUESTION, ANSWER = "how much is shipping?", "$6.95"
CUSTOMERS = 5
PACE_S = 2.5  # between one customer's questions: under the 30 messages a minute limit
REPLY_TIMEOUT_S = 90  # a question waits this long at most, through any restart
BACK_TIMEOUT_S = 240  # Rasa loads its model again: slow on a busy 2-core machine


@pytest.fixture(scope="module")
def supervised(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, list[str]]]:
    """A stack of its own, under supervision; and what the supervisor said."""
    tmp_path = tmp_path_factory.mktemp("survival")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    seed(get_store(store_url))
    get_store(store_url).engine.dispose()
    # Rasa reads the model again at each restart, and `make train` deletes older ones.
    model = tmp_path / trained_model.name
    shutil.copy(trained_model, model)
    stack = Stack(
        model,
        free_port(),
        free_port(),
        var_dir=tmp_path,
        store_url=store_url,
        handoff_port=free_port(),
    )
    stack.start()
    said: list[str] = []
    stopping = threading.Event()
    supervisor = threading.Thread(
        target=stack.supervise, args=(stopping, lambda line, **_: said.append(line), 0.2)
    )
    supervisor.start()
    try:
        yield stack, said
    finally:
        stopping.set()
        supervisor.join()
        stack.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Chat:
    """One customer asking the same question until told to stop; what they sent."""

    def __init__(self, widget: WidgetClient) -> None:
        self.widget = widget
        self.asked: list[str] = []  # client ids, in order

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            client_id = await self.widget.send(QUESTION)
            self.asked.append(client_id)
            await self.widget.answer(client_id, REPLY_TIMEOUT_S)
            await asyncio.sleep(PACE_S)

    def in_flight(self) -> bool:
        """The last question is stored (acknowledged) and its answer is not."""
        if not self.asked:
            return False
        last = self.asked[-1]
        return last in self.widget.acked and self.widget.reply_to(last) is None

    def answers(self, speaker: str | None = None, since: int = 0) -> int:
        """How many of the questions from the ``since``-th on have an answer (by ``speaker``)."""
        replies = [self.widget.reply_to(c) for c in self.asked[since:]]
        return sum(r is not None and speaker in (None, r["speaker"]) for r in replies)


def healthy(part: Part) -> bool:
    """Running, and its health URL answers 200 (a part without one: running)."""
    if not part.running:
        return False
    if part.health is None:
        return True
    try:
        with urllib.request.urlopen(part.health, timeout=2) as response:  # noqa: S310 - an http URL on loopback, built here
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


async def until(
    condition: Callable[[], bool], timeout: float, what: str, blocking: bool = False
) -> None:
    """Poll ``condition`` until it holds (in a thread when it ``blocking``: it makes
    requests; else here, where the widgets' state changes)."""
    deadline = time.monotonic() + timeout
    while not (await asyncio.to_thread(condition) if blocking else condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


async def kill_and_recover(stack: Stack, name: str, chats: list[Chat]) -> tuple[float, float]:
    """Kill the part with a question in flight; wait until it is back, healthy, and the bot
    has answered every customer a question asked since. The kill's and the recovery's
    wall times."""
    await until(lambda: any(c.in_flight() for c in chats), 30, "a question in flight")
    part = stack.parts[name]
    assert part.process is not None
    killed = part.process
    os.killpg(killed.pid, signal.SIGKILL)
    at = time.time()
    await until(lambda: part.process is not killed and healthy(part), BACK_TIMEOUT_S, name, True)
    back = time.time()
    asked = [len(c.asked) for c in chats]
    await until(
        lambda: all(c.answers("bot", n) for c, n in zip(chats, asked, strict=True)),
        REPLY_TIMEOUT_S,
        f"the bot answering every customer after the {name} part came back",
    )
    return at, back


def stored(stack: Stack, conversation_id: str) -> list[sqlite3.Row]:
    """The conversation's messages as the handoff service stored them, in order."""
    with sqlite3.connect(f"file:{stack.var_dir / 'handoff.db'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        query = "SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq"
        return db.execute(query, (conversation_id,)).fetchall()


def check_answered_once(
    stack: Stack, chat: Chat, rasa_down: tuple[float, float]
) -> tuple[int, int]:
    """Every acknowledged message stored once, each followed by exactly one reply; the
    widget saw exactly what is stored. How many replies were the bot's and the system's."""
    widget, rows = chat.widget, stored(stack, chat.widget.conversation_id)
    assert widget.problems == []
    assert set(widget.acked) == set(chat.asked) and not widget.pending
    customer = [r for r in rows if r["speaker"] == "customer"]
    assert [r["client_id"] for r in customer] == chat.asked  # each once, in order
    assert [widget.acked[c] for c in chat.asked] == [r["seq"] for r in customer]
    assert [(s, m["text"]) for s, m in sorted(widget.messages.items())] == [
        (r["seq"], r["text"]) for r in rows
    ]
    bot = system = 0
    for n, row in enumerate(customer):
        until_next = customer[n + 1]["seq"] if n + 1 < len(customer) else rows[-1]["seq"] + 1
        replies = [r for r in rows if row["seq"] < r["seq"] < until_next]
        assert len(replies) == 1, f"{row['client_id']}: {[dict(r) for r in replies]}"
        [reply] = replies
        if reply["speaker"] == "bot":
            assert ANSWER in reply["text"]
            bot += 1
        else:
            assert (reply["speaker"], reply["text"]) == ("system", UNAVAILABLE)
            created = reply["created_at"]
            when = dt.datetime.fromisoformat(created).replace(tzinfo=dt.timezone.utc)
            assert rasa_down[0] - 1 <= when.timestamp() <= rasa_down[1] + 1, created
            system += 1
    return bot, system


async def check_escalation(stack: Stack, http: aiohttp.ClientSession) -> None:
    """After the relay's restart: a customer asking for a person is queued (the action
    server posts the escalation), and an escalation left in the outbox, as the action
    server leaves one it could not deliver, reaches the queue through the relay."""
    agent = signed_in_agent(stack, f"ana-{uuid.uuid4().hex[:6]}")
    asking, left = WidgetClient(http, stack.handoff_url), WidgetClient(http, stack.handoff_url)
    await asking.open()
    await left.open()
    try:
        await asking.ask("I want to talk to a person", REPLY_TIMEOUT_S)
        await left.ask(QUESTION, REPLY_TIMEOUT_S)  # a conversation the bot had answered
        outbox = Outbox(f"sqlite:///{stack.var_dir / 'outbox.db'}")
        waiting = record(left.conversation_id)
        outbox.add(waiting["idempotency_key"], waiting)

        def queued() -> set[str]:
            status, queue = call(stack, "GET", "/queue", agent)
            assert status == 200, queue
            return {entry["conversation_id"] for entry in queue["queue"]}

        wanted = {asking.conversation_id, left.conversation_id}
        await until(lambda: wanted <= queued(), 60, "both escalations in the queue", True)
        # The relay marks a record delivered after the service has answered its post.
        await until(lambda: outbox.pending() == [], 60, "the outbox record marked delivered", True)
        outbox.engine.dispose()
    finally:
        await asking.close()
        await left.close()


async def test_every_part_comes_back_and_every_question_is_answered_once(
    supervised: tuple[Stack, list[str]], http: aiohttp.ClientSession
) -> None:
    stack, said = supervised
    widgets = [WidgetClient(http, stack.handoff_url) for _ in range(CUSTOMERS)]
    for widget in widgets:
        await widget.open()
    chats, stop = [Chat(w) for w in widgets], asyncio.Event()
    talking = [asyncio.create_task(c.run(stop)) for c in chats]
    try:
        await until(lambda: all(c.answers() for c in chats), REPLY_TIMEOUT_S, "first answers")
        windows = {}
        for name in ("rasa", "actions", "handoff", "outbox"):
            windows[name] = await kill_and_recover(stack, name, chats)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*talking), REPLY_TIMEOUT_S)
    finally:
        stop.set()
        for task in talking:
            task.cancel()
        for widget in widgets:
            await widget.close()

    for name in ("rasa", "actions", "handoff", "outbox"):
        assert f"The {name} part was restarted." in said, said
    totals = [check_answered_once(stack, c, windows["rasa"]) for c in chats]
    assert all(system for _, system in totals)  # each customer asked while Rasa was down
    assert all(w.connections >= 2 for w in widgets)  # each socket dropped with the service
    await check_escalation(stack, http)


@dataclass
class Dropped:
    """How many connections the listener in :func:`held_down` cut off."""

    count: int = 0


@contextmanager
def held_down(part: Part, port: int) -> Iterator[Dropped]:
    """Kill the part and keep its port taken while the block runs, by a listener that
    drops every connection: callers are cut off, and each restart fails (address in use),
    as a part that crashes at start would."""
    assert part.process is not None
    os.killpg(part.process.pid, signal.SIGKILL)
    part.process.wait()  # its sockets are closed once it is gone
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    listener.settimeout(0.1)
    done, dropped = threading.Event(), Dropped()

    def drop() -> None:
        while not done.is_set():
            try:
                listener.accept()[0].close()
            except TimeoutError:
                continue
            dropped.count += 1

    dropping = threading.Thread(target=drop)
    dropping.start()
    try:
        yield dropped
    finally:
        done.set()
        dropping.join()
        listener.close()


PAUSE = re.compile(r"The actions part stopped .* restarting it in (\d+) s")


async def test_a_part_that_cannot_start_is_retried_with_growing_pauses(
    supervised: tuple[Stack, list[str]],
) -> None:
    stack, said = supervised
    part, before = stack.parts["actions"], len(said)

    def pauses() -> list[int]:
        return [int(m[1]) for line in said[before:] if (m := PAUSE.search(line))]

    with held_down(part, stack.actions_port):
        await until(lambda: len(pauses()) >= 3, 60, "three failed starts of the action server")
    await until(lambda: healthy(part), BACK_TIMEOUT_S, "the action server back", True)
    # Each start failed within STABLE_S of the one before: each pause is 2n + 1 the last.
    first, second, third = pauses()[:3]
    assert second == min(MAX_BACKOFF_S, 2 * first + 1), said[before:]
    assert third == min(MAX_BACKOFF_S, 2 * second + 1), said[before:]


async def test_a_customer_asking_for_a_person_while_the_action_server_is_down_is_queued(
    supervised: tuple[Stack, list[str]], http: aiohttp.ClientSession
) -> None:
    stack, _ = supervised
    part = stack.parts["actions"]
    await until(lambda: healthy(part), BACK_TIMEOUT_S, "the action server up first", True)
    agent = signed_in_agent(stack, f"bea-{uuid.uuid4().hex[:6]}")
    widget = WidgetClient(http, stack.handoff_url)
    await widget.open()
    try:
        with held_down(part, stack.actions_port) as dropped:
            asked = await widget.send("I want to talk to a person")
            await until(lambda: dropped.count > 0, 30, "Rasa calling the action server")
        # Rasa's call to action_handoff was cut off, so Rasa itself answers nothing: the
        # service tells the customer and queues them anyway.
        answer = await widget.answer(asked, REPLY_TIMEOUT_S)
        assert answer["speaker"] == "system" and "support team" in answer["text"], answer
        status, queue = call(stack, "GET", "/queue", agent)
        assert status == 200, queue
        assert widget.conversation_id in {entry["conversation_id"] for entry in queue["queue"]}
    finally:
        await widget.close()
        await until(lambda: healthy(part), BACK_TIMEOUT_S, "the action server back", True)
