"""The studio's loop on a scripted day: misses surface, an editor labels them, a checked
model is published, and understanding of new messages improves.

    make bench-studio
    python -m bench.studio [--quick]

On the whole system (:class:`tools.serve.Stack`, free ports, a throwaway ``var`` and a copy
of the content in git), through the handoff service's API as the studio page calls it:

1. **Day.** The 300 ``day`` messages of ``bench/studio_traffic.yml`` (written blind: new
   phrasings, typos, three topics the bot does not cover) are sent by customers, each in a
   conversation of its own, and answered by the bot.
2. **Inbox.** For each uncovered topic: how many of its messages became misses, and the
   share of them in its largest cluster (goal: three clusters, each holding at least 80 %
   of its topic's messages).
3. **Label.** A simulated editor labels every cluster as the page does: the messages of
   the cluster's most common true label stay ticked (the others are unticked, as an
   editor reading them would); an uncovered topic becomes a new FAQ with the answer the
   traffic file gives; anything else its intent or FAQ.
4. **Check and publish**, timing each stage the worker reports.
5. **Later.** Accuracy on the 100 ``later`` messages (unseen, similar), live model before
   and published model after (goal: +10 points), with every gate floor still met.
6. **A bad change** (15 shipping-cost phrases moved into the returns FAQ) is checked and
   must be blocked, naming the broken intents.
7. **Under load.** Ten customers chat through the customer socket while the original
   version is made live again and then the published one: failed turns, messages lost or
   answered twice (Rasa's tracker holds each customer message once), seconds to live.
8. **A full inbox.** 10,000 misses in the database: the inbox's first answer (grouping
   included) and the next one (goal: under 1 s).

``--quick`` sends a third of the day and skips the bad change and the full inbox.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp
import yaml
from sqlalchemy import create_engine

from bench.report import table, write
from bench.turns import larkspur
from handoff.db.tables import conversations, customers, misses
from handoff.usecases import UNAVAILABLE
from studio.content import Content
from tools.evaluation import predict
from tools.model_cache import model_path
from tools.serve import ROOT, Stack

TRAFFIC = ROOT / "bench" / "studio_traffic.yml"
PASSWORD = "bench editor password"  # noqa: S105 - a throwaway account in a throwaway database
CLUSTER_GOAL, ACCURACY_GAIN_GOAL, INBOX_GOAL_S, ROLLBACK_GOAL_S = 0.80, 0.10, 1.0, 30.0
BENCH_ENV = {
    "HANDOFF_SESSIONS_PER_MINUTE": "1000000",
    "HANDOFF_CUSTOMER_MESSAGES_PER_MINUTE": "1000000",
    "HANDOFF_LOGINS_PER_MINUTE": "1000000",
}
CHATTERS = 10
CHECK_TIMEOUT_S = 1800
FULL_INBOX = 10_000


@dataclass
class Traffic:
    day: list[dict[str, str]]
    later: list[dict[str, str]]
    topics: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path = TRAFFIC) -> Traffic:
        data = yaml.safe_load(path.read_text())
        return cls(data["day"], data["later"], {t["key"]: t for t in data["new_topics"]})


@dataclass
class Figures:
    """What the run measured, section by section."""

    stages: list[tuple[str, float, str]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str, note: str = "") -> Iterator[list[str]]:
        notes = [note] if note else []
        started = time.monotonic()
        print(f"… {name}", flush=True)
        yield notes
        self.stages.append((name, time.monotonic() - started, "; ".join(notes)))


class Api:
    """The handoff service as the widget and the studio page call it."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url, self.token = http, url, ""

    async def call(self, method: str, path: str, body: Any = None, token: str = "") -> Any:
        headers = (
            {"Authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        )
        async with self.http.request(method, self.url + path, json=body, headers=headers) as r:
            payload = await r.json()
            if r.status >= 400:
                raise RuntimeError(f"{method} {path}: {r.status} {payload}")
            return payload

    async def ask(self, text: str) -> list[dict[str, Any]]:
        """A new customer's one message; the bot's answer."""
        session = await self.call("POST", "/sessions", {}, token="")
        token, path = session["token"], f"/conversations/{session['conversation_id']}"
        sent = await self.call("POST", path + "/messages", {"text": text}, token=token)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = await self.call("GET", path + f"/messages?after={sent['seq']}", token=token)
            said = [m for m in answer["messages"] if m["speaker"] in ("bot", "system")]
            if said:
                return said
            await asyncio.sleep(0.1)
        raise RuntimeError(f"nobody answered {text!r}")


def expected_label(expect: str) -> str:
    """``new/<key>`` becomes the FAQ the editor creates for it."""
    return "faq/" + expect.split("/", 1)[1] if expect.startswith("new/") else expect


def judged_correct(prediction: Any, expected: str) -> bool:
    if expected.startswith("faq/"):
        return prediction.intent == "faq" and prediction.response_key == expected
    return bool(prediction.intent == expected)


def accuracy(model: Path, messages: list[dict[str, str]]) -> float:
    predictions = predict(model, [m["text"] for m in messages])
    right = [
        judged_correct(p, expected_label(m["expect"]))
        for p, m in zip(predictions, messages, strict=True)
    ]
    return sum(right) / len(right)


async def in_thread(function: Any, *args: Any) -> Any:
    """Rasa's model runs its own event loop: in a thread of its own, not in this one."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


async def send_day(api: Api, day: list[dict[str, str]], concurrency: int = 4) -> None:
    queue = list(day)

    async def customer() -> None:
        while queue:
            await api.ask(queue.pop(0)["text"])

    await asyncio.gather(*(customer() for _ in range(concurrency)))


async def settled_inbox(api: Api) -> dict[str, Any]:
    while True:
        inbox = await api.call("GET", "/studio/api/inbox?limit=500&members=500")
        if not inbox["stale"]:
            return dict(inbox)
        await asyncio.sleep(0.2)


def cluster_table(
    inbox: dict[str, Any], day: list[dict[str, str]], topics: dict[str, Any]
) -> tuple[str, bool]:
    expect = {m["text"]: m["expect"] for m in day}
    rows, met = [], True
    for key in topics:
        sent = sum(1 for m in day if m["expect"] == f"new/{key}")
        per_cluster = [
            sum(1 for m in c["messages"] if expect.get(m["text"]) == f"new/{key}")
            for c in inbox["clusters"]
        ]
        missed = sum(per_cluster)
        best = max(per_cluster, default=0)
        share = best / sent if sent else 0.0
        met &= share >= CLUSTER_GOAL
        rows.append((key, sent, missed, best, share, best / missed if missed else 0.0))
    header = (
        "topic",
        "messages sent",
        "in the inbox",
        "in its largest cluster",
        "share of those sent",
        "share of those in the inbox",
    )
    return table(header, rows), met


async def label_everything(
    api: Api, inbox: dict[str, Any], day: list[dict[str, str]], topics: dict[str, Any]
) -> Counter[str]:
    """Label each cluster as an editor reading it would; how many labels of each kind."""
    expect = {m["text"]: m["expect"] for m in day}
    made: Counter[str] = Counter()
    created: set[str] = set()
    for cluster in inbox["clusters"]:
        members = cluster["messages"]  # the bench asks for up to 500 per cluster
        truths = Counter(expect.get(m["text"], "?") for m in members)
        truth, _ = truths.most_common(1)[0]
        if truth == "?":
            continue
        ticked = [m["id"] for m in members if expect.get(m["text"]) == truth]
        if truth.startswith("new/") and truth not in created:
            key = truth.split("/", 1)[1]
            faq = {"key": key, "answer": topics[key]["answer"]}
            body: dict[str, Any] = {"miss_ids": ticked, "action": "new_faq", "faq": faq}
            created.add(truth)
        elif truth.startswith(("faq/", "new/")):
            body = {"miss_ids": ticked, "action": "faq", "target": expected_label(truth)}
        else:
            body = {"miss_ids": ticked, "action": "intent", "target": truth}
        await api.call("POST", "/studio/api/labels", body)
        made[body["action"]] += 1
    return made


async def run_check(api: Api, figures: Figures, name: str) -> dict[str, Any]:
    check = await api.call("POST", "/studio/api/checks", {})
    deadline = time.monotonic() + CHECK_TIMEOUT_S
    while check["state"] in ("queued", "running") and time.monotonic() < deadline:
        await asyncio.sleep(1)
        check = await api.call("GET", f"/studio/api/checks/{check['id']}")
    for stage in check["stages"]:
        if "seconds" in stage:
            figures.stages.append((f"{name}: {stage['stage']}", stage["seconds"], stage["state"]))
    return dict(check)


def report_sections(check: dict[str, Any]) -> str:
    report = check.get("report") or {}
    floors = table(
        ("floor", "candidate", "required", "met"),
        [
            (f["name"], f["value"], f["floor"], "yes" if f["met"] else "NO")
            for f in report.get("floors", [])
        ],
    )
    metrics = table(
        (
            "figure",
            "live",
            "candidate",
            "change",
            "tolerance",
            "newly wrong / right",
            "chance",
            "a regression",
        ),
        [
            (
                m["name"],
                m["live"],
                m["candidate"],
                m["change"],
                m["tolerance"],
                "-" if m.get("broken") is None else f"{m['broken']} / {m['fixed']}",
                "-" if m.get("chance") is None else m["chance"],
                "yes" if m["counted_as_regression"] else "no",
            )
            for m in report.get("metrics", [])
        ],
    )
    reasons = "\n".join(f"- {r}" for r in report.get("reasons", [])) or "- (none)"
    return (
        f"State: **{check['state']}**.\n\n{floors}\n\n{metrics}\n\nReasons:\n{reasons}"
        f"\n\n{broken_examples(report)}"
    )


def broken_examples(report: dict[str, Any]) -> str:
    """Which intents regressed, and the first held-out messages the candidate broke."""
    regressed = [i["intent"] for i in report.get("per_intent", []) if i["counted_as_regression"]]
    examples = table(
        ("message", "expected", "live", "candidate"),
        [
            (b["text"], b["expected"], b["live_prediction"], b["candidate_prediction"])
            for b in report.get("broken", [])[:5]
        ],
    )
    return (
        f"Regressed: {', '.join(regressed) or 'none'}; {report.get('broken_count', 0)} messages "
        f"broken, {report.get('fixed_count', 0)} fixed.\n\n{examples}"
    )


def move_faq_examples(content: Path, source: str, target: str, count: int) -> list[str]:
    """The bad change, by hand: ``count`` training phrases of ``source`` relabelled."""
    path = content / "data" / "nlu" / "faq.yml"
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(f"- intent: {source}\n") + 2
    moved = lines[start : start + count]
    del lines[start : start + count]
    at = lines.index(f"- intent: {target}\n") + 2
    lines[at:at] = moved
    path.write_text("".join(lines))
    return [line.strip().removeprefix("- ") for line in moved]


async def bad_change(api: Api, stack: Stack, figures: Figures) -> str:
    faq = stack.content_dir / "data" / "nlu" / "faq.yml"
    before = faq.read_text()
    moved = move_faq_examples(stack.content_dir, "faq/shipping_cost", "faq/return_window", 15)
    try:
        check = await run_check(api, figures, "bad change")
    finally:
        faq.write_text(before)
    verdict = "blocked" if check["state"] == "blocked" else f"NOT blocked ({check['state']})"
    return (
        f"{len(moved)} phrases of faq/shipping_cost moved into faq/return_window: **{verdict}**. "
        + broken_examples(check.get("report") or {})
    )


async def chatter(
    http: aiohttp.ClientSession,
    stack: Stack,
    texts: list[str],
    stop: asyncio.Event,
    tally: Counter[str],
    turns: list[float] | None = None,
) -> list[list[str]]:
    """One customer after another on the socket until ``stop``, each turn to be answered
    by the bot; one whose chat the bot hands to a person makes way for a new customer.
    Each conversation's id and the texts sent in it; the seconds of each answered turn
    go into ``turns``."""
    records = []
    while not stop.is_set():
        records.append(await _one_chat(http, stack, texts, stop, tally, turns))
    return records


async def _one_chat(
    http: aiohttp.ClientSession,
    stack: Stack,
    texts: list[str],
    stop: asyncio.Event,
    tally: Counter[str],
    turns: list[float] | None = None,
) -> list[str]:
    api = Api(http, stack.handoff_url)
    session = await api.call("POST", "/sessions", {}, token="")
    socket = await http.ws_connect(stack.handoff_url.replace("http", "ws") + "/ws/customer")
    await socket.send_json({"type": "hello", "token": session["token"]})
    sent: list[str] = []
    try:
        while (await socket.receive_json())["type"] != "welcome":
            pass
        while not stop.is_set():
            text = random.choice(texts)  # noqa: S311 - picking test messages, not secrets
            client_id = uuid.uuid4().hex
            started = time.monotonic()
            await socket.send_json({"type": "message", "text": text, "client_id": client_id})
            sent.append(text)
            outcome = await _answered(socket, client_id)
            tally[outcome] += 1
            if turns is not None and outcome == "answered":
                turns.append(time.monotonic() - started)
            if outcome == "handed over":  # a person's turn now, not the bot's
                break
    finally:
        await socket.close()
    return [session["conversation_id"], *sent]


async def _answered(socket: aiohttp.ClientWebSocketResponse, client_id: str) -> str:
    acked = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            event = await asyncio.wait_for(socket.receive_json(), deadline - time.monotonic())
        except asyncio.TimeoutError:
            break
        if event.get("type") != "message":
            continue
        if event.get("client_id") == client_id:
            acked = True
        elif acked and event.get("speaker") == "bot":
            return "answered"
        elif acked and event.get("speaker") == "system":
            # The 'unavailable' notice is a failure; any other is a handoff's (queued…).
            return "failed" if event.get("text") == UNAVAILABLE else "handed over"
    return "failed" if acked else "lost"


def tracker_user_texts(stack: Stack, conversation_id: str, rasa_url: str = "") -> list[str]:
    """The customer's texts in Rasa's tracker (at ``rasa_url``, else the stack's Rasa)."""
    import urllib.request

    base = rasa_url or stack.rasa_url
    url = f"{base}/conversations/{conversation_id}/tracker?token={stack.keys.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback, built here
        events = json.loads(response.read())["events"]
    return [e.get("text") or "" for e in events if e["event"] == "user"]


async def under_load(
    http: aiohttp.ClientSession, stack: Stack, api: Api, texts: list[str], versions: list[int]
) -> str:
    stop, tally = asyncio.Event(), Counter[str]()
    chats = [asyncio.create_task(chatter(http, stack, texts, stop, tally)) for _ in range(CHATTERS)]
    await asyncio.sleep(5)  # the chats are under way before the first switch
    switched = []
    for version_id in versions:
        started = time.monotonic()
        live = await api.call("POST", f"/studio/api/versions/{version_id}/restore", {})
        switched.append(
            (f"version {version_id} live again", time.monotonic() - started, live["seconds"])
        )
        await asyncio.sleep(5)
    stop.set()
    records = [record for chats_of_one in await asyncio.gather(*chats) for record in chats_of_one]
    twice = 0
    for conversation_id, *sent in records:
        seen = Counter(tracker_user_texts(stack, conversation_id))
        twice += sum(max(0, seen[t] - n) for t, n in Counter(sent).items())
    rows = [
        ("turns answered by the bot", tally["answered"]),
        ("turns failed (no answer, or the 'unavailable' notice)", tally["failed"]),
        ("chats the bot handed to a person (that customer stopped)", tally["handed over"]),
        ("messages lost (never acknowledged)", tally["lost"]),
        ("messages Rasa saw twice", twice),
    ]
    times = table(("switch", "seconds from the click", "Rasa's load (s)"), switched)
    return table(("under load, 10 customers", "count"), rows) + "\n\n" + times


def fill_inbox(database: Path, texts: list[str], count: int) -> None:
    """``count`` misses straight into the service's database, varied from real texts."""
    engine = create_engine(f"sqlite:///{database}")
    now = dt.datetime.utcnow()
    words = [w for t in texts for w in t.split()]
    with engine.begin() as connection:
        customer = connection.execute(
            customers.insert().values(created_at=now)
        ).inserted_primary_key[0]
        rows = []
        for i in range(count):
            base = random.choice(texts).split()  # noqa: S311 - test data, not secrets
            base.insert(random.randrange(len(base) + 1), random.choice(words))  # noqa: S311
            conversation = f"bench-{i}"
            connection.execute(
                conversations.insert().values(id=conversation, customer_id=customer, created_at=now)
            )
            rows.append(
                {
                    "conversation_id": conversation,
                    "seq": 1,
                    "text": " ".join(base),
                    "reasons": ["fallback"],
                    "ranking": [["out_of_scope", 0.5]],
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        connection.execute(misses.insert(), rows)
    engine.dispose()


async def timed_inbox(api: Api) -> tuple[float, float, float, int]:
    """Seconds to the first answer (the last grouping, said to be stale), until the new
    grouping is in, and to an answer from it; and how many misses it holds."""
    started = time.monotonic()
    first = await api.call("GET", "/studio/api/inbox")
    cold = time.monotonic() - started
    while first["stale"]:
        await asyncio.sleep(0.5)
        first = await api.call("GET", "/studio/api/inbox")
    regrouped = time.monotonic() - started
    started = time.monotonic()
    await api.call("GET", "/studio/api/inbox")
    return cold, regrouped, time.monotonic() - started, first["total_messages"]


@contextmanager
def running_stack(folder: Path) -> Iterator[Stack]:
    """The whole system (bench.turns) with the studio writing into a git copy of the content."""
    content = folder / "content"
    Content(ROOT).snapshot(content)
    commit = ["-c", "user.name=bench", "-c", "user.email=b@b", "commit", "-qm", "content"]
    for args in (["init", "-q"], ["add", "-A"], commit):
        subprocess.run(["git", "-C", str(content), *args], check=True, capture_output=True)  # noqa: S603, S607 - git on the bench's own copy
    with larkspur(folder / "var", content, BENCH_ENV) as stack:
        yield stack


def add_editor(stack: Stack) -> None:
    env = dict(
        os.environ,
        HANDOFF_DATABASE_URL=f"sqlite+aiosqlite:///{stack.var_dir / 'handoff.db'}",
        HANDOFF_AGENT_PASSWORD=PASSWORD,
    )
    command = [sys.executable, "-m", "handoff", "add-agent", "bench", "--role", "editor"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603 - fixed argv


async def bench(quick: bool) -> None:
    traffic = Traffic.load()
    day = traffic.day[:100] if quick else traffic.day
    figures = Figures()
    live_model = model_path()
    with TemporaryDirectory(prefix="bench-studio-") as tmp, running_stack(Path(tmp)) as stack:
        add_editor(stack)
        async with aiohttp.ClientSession() as http:
            api = Api(http, stack.handoff_url)
            api.token = (
                await api.call("POST", "/agent/login", {"name": "bench", "password": PASSWORD})
            )["token"]
            with figures.stage("accuracy before, on the later set"):
                before = await in_thread(accuracy, live_model, traffic.later)
            with figures.stage(f"{len(day)} customers ask their question") as notes:
                await send_day(api, day)
            with figures.stage("inbox grouped") as notes:
                inbox = await settled_inbox(api)
                notes.append(
                    f"{inbox['total_messages']} misses in {inbox['total_clusters']} clusters"
                )
            clusters, clusters_met = cluster_table(inbox, day, traffic.topics)
            with figures.stage("every cluster labelled") as notes:
                made = await label_everything(api, inbox, day, traffic.topics)
                notes.append(", ".join(f"{n} {a}" for a, n in made.items()))
            check = await run_check(api, figures, "check")
            if check["state"] != "passed":  # nothing to publish: say what was measured, and why
                figures.sections = {
                    "Uncovered topics in the inbox": (
                        f"{clusters}\n\nGoal: each topic's largest cluster holds "
                        f"≥ {CLUSTER_GOAL:.0%} of it: **{met(clusters_met)}**."
                    ),
                    "The check of the labels (not passed, so not published)": (
                        f"{report_sections(check)}\n\nError: {check.get('error') or 'none'}"
                    ),
                    "Stages": table(("stage", "seconds", "note"), figures.stages),
                    "Machine": machine(),
                }
                write_results(quick, figures)
                raise SystemExit(f"the check did not pass ({check['state']}): see results/")
            with figures.stage("publish") as notes:
                version = await api.call("POST", f"/studio/api/checks/{check['id']}/publish", {})
                commit = str(version["commit"])[:10]
                notes.append(f"Rasa loaded it in {version['seconds']} s; commit {commit}")
            published = stack.var_dir / "studio" / "versions" / str(version["id"]) / "model.tar.gz"
            with figures.stage("accuracy after, on the later set"):
                after = await in_thread(accuracy, published, traffic.later)
            bad = "skipped (--quick)" if quick else await bad_change(api, stack, figures)
            versions = await api.call("GET", "/studio/api/versions")
            original = [v["id"] for v in versions["versions"] if v["original"]][-1]
            # Customers with questions for the bot: asking for a person ends the bot's part.
            texts = [m["text"] for m in traffic.later if m["expect"] != "request_human"]
            load = await under_load(http, stack, api, texts, [original, version["id"]])
            if quick:
                inbox_row = "skipped (--quick)"
            else:
                fill_inbox(
                    stack.var_dir / "handoff.db", [m["text"] for m in traffic.day], FULL_INBOX
                )
                cold, regrouped, warm, total = await timed_inbox(api)
                met_goal = "met" if max(cold, warm) < INBOX_GOAL_S else "NOT met"
                inbox_row = table(
                    (
                        "open misses",
                        "first answer (s)",
                        "grouped anew after (s)",
                        "answer from the new grouping (s)",
                        f"goal < {INBOX_GOAL_S} s",
                    ),
                    [(total, cold, regrouped, warm, met_goal)],
                )
    gain = after - before
    cluster_goal = f"each topic's largest cluster holds ≥ {CLUSTER_GOAL:.0%} of it"
    gain_goal = f"+{ACCURACY_GAIN_GOAL * 100:.0f} points"
    figures.sections = {
        "Uncovered topics in the inbox": (
            f"{clusters}\n\nGoal: {cluster_goal}: **{met(clusters_met)}**."
        ),
        "Understanding of the later set (100 unseen messages)": table(
            ("model", "accuracy"),
            [
                ("live, before", before),
                ("published, after", after),
                ("gain (points)", round(100 * gain, 1)),
            ],
        )
        + f"\n\nGoal: {gain_goal}: **{met(gain >= ACCURACY_GAIN_GOAL)}**.",
        "The check that was published": report_sections(check),
        "A deliberately bad change": bad,
        "Publish and roll back while customers chat": load,
        f"The inbox with {FULL_INBOX:,} misses": inbox_row,
        "Stages": table(("stage", "seconds", "note"), figures.stages),
        "Machine": machine(),
    }
    write_results(quick, figures)


def machine() -> str:
    return f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}"


def write_results(quick: bool, figures: Figures) -> None:
    command = "make bench-studio" + (" QUICK=1" if quick else "")
    write("studio-quick" if quick else "studio", command, figures.sections)


def met(goal: bool) -> str:
    return "met" if goal else "not met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a third of the day; no bad change, no full inbox"
    )
    args = parser.parse_args()
    asyncio.run(bench(args.quick))


if __name__ == "__main__":
    main()
