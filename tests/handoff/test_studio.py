"""The studio over the real app and database: roles, the inbox of misses, feedback, labels.

What the bot understood is what Rasa's handoff channel reports (``bot/channels.py``); here
it is handed to ``misses.note_turn`` directly, as the relay does after each bot turn (the
end-to-end tests drive the real Rasa).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from handoff import misses
from handoff.db.accounts import STUDIO_ROLES
from handoff.state import ACCOUNTS, EDITING, SETTINGS, STORE
from studio.content import Content
from tests.helpers.service import Api, bearer
from tools.serve import ROOT

INBOX = "/studio/api/inbox"


def fallback(*ranking: tuple[str, float]) -> dict[str, Any]:
    return {
        "intent": "nlu_fallback",
        "confidence": 0.7,
        "ranking": [list(guess) for guess in ranking] or [["greet", 0.3], ["thanks", 0.2]],
        "answer": None,
        "faq_withheld": False,
        "article_found": False,
        "model": "test",
    }


def understood(intent: str, confidence: float = 0.95) -> dict[str, Any]:
    return {
        "intent": intent,
        "confidence": confidence,
        "ranking": [[intent, confidence], ["greet", 0.01]],
        "answer": None,
        "faq_withheld": False,
        "article_found": None,
        "model": "test",
    }


async def customer_says(
    client: TestClient, api: Api, text: str, understanding: dict[str, Any], conversation: str = ""
) -> tuple[str, int]:
    """A customer message stored as the relay stores it, then the bot's turn noted."""
    conversation = conversation or (await api.session())[0]
    message = await client.app[STORE].customer_message(conversation, text, None)
    await misses.note_turn(client.app, conversation, message["seq"], understanding)
    return conversation, int(message["seq"])


async def inbox(api: Api, token: str) -> dict[str, Any]:
    """The inbox once its grouping is up to date."""
    for _ in range(100):
        answer = await api.call("GET", INBOX, token, status=200)
        if not answer["stale"]:
            return dict(answer)
        await asyncio.sleep(0.05)  # the regrouping runs in a thread: poll its result
    raise AssertionError("the inbox stayed stale")


@pytest.fixture
def content(client: TestClient) -> Path:
    """A copy of the content for the studio to write into."""
    root = Path(client.app[SETTINGS].content_dir)
    Content(ROOT).snapshot(root)
    return root


async def test_roles_open_only_their_doors(api: Api) -> None:
    editor = await api.agent("eve", role="editor")
    agent = await api.agent("ana")
    lead = await api.agent("lee", role="lead")
    refused = await api.call("GET", "/agent/me", editor, status=403)
    assert refused["error"]["code"] == "wrong_role"
    assert "studio" in refused["error"]["message"]
    await api.call("POST", "/queue/claim-next", editor, {}, status=403)
    refused = await api.call("GET", INBOX, agent, status=403)
    assert refused["error"]["code"] == "wrong_role"
    assert (await api.call("GET", "/studio/api/me", editor, status=200))["role"] == "editor"
    assert (await api.call("GET", "/studio/api/me", lead, status=200))["role"] == "lead"
    await api.call("GET", "/agent/me", lead, status=200)


async def test_studio_refuses_missing_and_expired_tokens(client: TestClient, api: Api) -> None:
    response = await client.get(INBOX)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "missing_token"
    editor = await api.agent("eve", role="editor")
    store = client.app[STORE]
    later = store.clock() + dt.timedelta(seconds=client.app[SETTINGS].agent_token_ttl_s + 1)
    store.clock = lambda: later
    expired = await api.call("GET", INBOX, editor, status=401)
    assert expired["error"]["code"] == "token_expired"


def test_reasons_at_turn() -> None:
    assert misses.at_turn(fallback()) == ["fallback", "no_article"]
    unsure = understood("check_order_status", 0.5)
    unsure["ranking"] = [["check_order_status", 0.5], ["start_return", 0.4]]
    assert misses.at_turn(unsure) == ["low_margin"]
    withheld = {**fallback(("faq/shipping_cost", 0.4)), "faq_withheld": True, "article_found": True}
    assert misses.at_turn(withheld) == ["faq_to_search"]
    assert misses.at_turn(understood("greet")) == []
    assert misses.at_turn(understood("out_of_scope")) == ["out_of_scope"]
    sure_but_strange = {**understood("faq", 0.97), "familiarity": 0.31}
    assert misses.at_turn(sure_but_strange) == ["unfamiliar"]
    assert misses.at_turn({**sure_but_strange, "familiarity": 0.8}) == []


async def test_misses_reach_the_inbox_grouped(client: TestClient, api: Api) -> None:
    editor = await api.agent("eve", role="editor")
    for text in ("can I rent a tent", "can i rent a tent for a weekend", "rent a tent?"):
        await customer_says(client, api, text, fallback(("faq/shipping_cost", 0.3)))
    await customer_says(client, api, "hello there", understood("greet"))  # understood: no miss
    await customer_says(client, api, "/request_human", fallback())  # a button: not words
    answer = await inbox(api, editor)
    assert answer["total_messages"] == 3
    top = answer["clusters"][0]
    assert top["size"] == 3
    assert top["guess"]["name"] == "faq/shipping_cost"
    assert top["reasons"] == {"fallback": 3, "no_article": 3}
    assert {m["text"] for m in top["messages"]} == {
        "can I rent a tent",
        "can i rent a tent for a weekend",
        "rent a tent?",
    }
    one = await api.call("GET", f"/studio/api/misses/{top['miss_ids'][0]}", editor, status=200)
    assert [t["speaker"] for t in one["around"]] == ["customer"]


async def test_asking_for_a_person_or_rephrasing_marks_the_message_before(
    client: TestClient, api: Api
) -> None:
    editor = await api.agent("eve", role="editor")
    first, _ = await customer_says(client, api, "my tent pole snapped", understood("faq"))
    await customer_says(client, api, "let me talk to a human", understood("request_human"), first)
    second, _ = await customer_says(client, api, "where is my parcel", understood("start_return"))
    await customer_says(client, api, "where is my parcel??", understood("start_return"), second)
    texts = {
        m["text"]: m["reasons"]
        for c in (await inbox(api, editor))["clusters"]
        for m in c["messages"]
    }
    assert texts == {
        "my tent pole snapped": ["asked_for_person"],
        "where is my parcel": ["rephrased"],
    }


async def test_not_helpful_makes_the_question_a_miss(client: TestClient, api: Api) -> None:
    editor = await api.agent("eve", role="editor")
    conversation, token = await api.session()
    store = client.app[STORE]
    await store.customer_message(conversation, "how long does delivery take", None)
    answer = await store.say(
        conversation, "bot", "3-5 days.", None, {"kind": "faq", "key": "faq/shipping_time"}
    )
    assert answer["rateable"] is True
    plain = await store.say(conversation, "bot", "Anything else?")
    url = f"/conversations/{conversation}/feedback"
    refused = await client.post(
        url, json={"seq": plain["seq"], "helpful": False}, headers=bearer(token)
    )
    assert refused.status == 404
    assert (await refused.json())["error"]["code"] == "not_found"
    for helpful in (True, False):  # a second press changes the vote
        response = await client.post(
            url, json={"seq": answer["seq"], "helpful": helpful}, headers=bearer(token)
        )
        assert response.status == 200, await response.text()
    assert await client.app[EDITING].ratings(conversation) == {answer["seq"]: False}
    [cluster] = (await inbox(api, editor))["clusters"]
    assert cluster["messages"][0]["text"] == "how long does delivery take"
    assert cluster["reasons"] == {"not_helpful": 1}


async def test_a_label_is_written_once_in_rasas_format(
    client: TestClient, api: Api, content: Path
) -> None:
    eve, max_ = await api.agent("eve", role="editor"), await api.agent("max", role="editor")
    texts = [
        f"do you hire out {thing}"
        for thing in ("tents", "stoves", "sleeping bags", "packs", "poles")
    ]
    for text in texts:
        await customer_says(client, api, text, fallback())
    [cluster] = (await inbox(api, eve))["clusters"]
    body = {"miss_ids": cluster["miss_ids"], "action": "intent", "target": "search_help"}
    first, second = await asyncio.gather(
        api.call("POST", "/studio/api/labels", eve, body),
        api.call("POST", "/studio/api/labels", max_, body),
    )
    outcomes = sorted([first, second], key=lambda a: "error" in a)
    assert outcomes[0]["written"]["target"] == "search_help"
    assert outcomes[1]["error"]["code"] == "already_labelled"
    assert "Nothing was written" in outcomes[1]["error"]["message"]
    trained = _examples(content / "data/nlu", "search_help")
    held = _examples(content / "tests/nlu/from_traffic.yml", "search_help")
    assert sorted(trained + held) == sorted(texts)  # each once, in training or held out
    assert len(held) == 1
    assert (await inbox(api, eve))["clusters"] == []
    [change] = (await api.call("GET", "/studio/api/changes", eve, status=200))["changes"]
    assert change["action"] == "label"
    assert change["editor"] in ("eve", "max")


def _examples(path: Path, intent: str) -> list[str]:
    found = []
    for file in [path] if path.is_file() else sorted(path.glob("*.yml")):
        for block in yaml.safe_load(file.read_text()).get("nlu") or []:
            if block.get("intent") == intent:
                found += [
                    line[2:].strip() for line in block["examples"].splitlines() if line.strip()
                ]
    return [text for text in found if "hire out" in text]


async def test_a_label_naming_a_gone_intent_writes_nothing(
    client: TestClient, api: Api, content: Path
) -> None:
    eve = await api.agent("eve", role="editor")
    await customer_says(client, api, "do you price match", fallback())
    [cluster] = (await inbox(api, eve))["clusters"]
    before = (content / "data/nlu/core.yml").read_text()
    body = {"miss_ids": cluster["miss_ids"], "action": "intent", "target": "price_match"}
    refused = await api.call("POST", "/studio/api/labels", eve, body, status=400)
    assert refused["error"]["code"] == "unknown_target"
    assert "price_match" in refused["error"]["message"]
    assert (content / "data/nlu/core.yml").read_text() == before
    assert [c["size"] for c in (await inbox(api, eve))["clusters"]] == [1]  # back in the inbox


@pytest.mark.parametrize(
    "body",
    [
        {"miss_ids": [], "action": "ignore"},
        {"miss_ids": [1], "action": "intent", "target": ""},
        {"miss_ids": [1], "action": "intent", "target": "x" * 5000},
        {"miss_ids": [1], "action": "new_faq", "faq": {"key": "rentals", "answer": ""}},
        {"miss_ids": [1], "action": "new_faq", "faq": {"key": "rentals", "answer": "a" * 5000}},
        {"miss_ids": [1], "action": "delete"},
    ],
)
async def test_bad_labels_are_refused_in_the_envelope(api: Api, body: dict[str, Any]) -> None:
    eve = await api.agent("eve", role="editor")
    refused = await api.call("POST", "/studio/api/labels", eve, body, status=400)
    assert refused["error"]["code"] == "invalid_body"


async def test_ignored_messages_stay_ignored_and_similar_ones_join(
    client: TestClient, api: Api, content: Path
) -> None:
    eve = await api.agent("eve", role="editor")
    await customer_says(client, api, "what is the meaning of life", fallback())
    [cluster] = (await inbox(api, eve))["clusters"]
    body = {"miss_ids": cluster["miss_ids"], "action": "ignore"}
    await api.call("POST", "/studio/api/labels", eve, body, status=201)
    await customer_says(client, api, "what is the meaning of life?", fallback())
    await customer_says(client, api, "can I rent a canoe", fallback())
    answer = await inbox(api, eve)
    assert [m["text"] for c in answer["clusters"] for m in c["messages"]] == ["can I rent a canoe"]


async def test_only_a_passed_check_is_published(api: Api) -> None:
    eve = await api.agent("eve", role="editor")
    await api.call("POST", "/studio/api/checks/1/publish", eve, {}, status=404)
    check = await api.call("POST", "/studio/api/checks", eve, {}, status=202)
    assert check["state"] in ("queued", "running", "failed")
    refused = await api.call(
        "POST", f"/studio/api/checks/{check['id']}/publish", eve, {}, status=409
    )
    assert refused["error"]["code"] == "not_passed"


async def test_a_check_compared_with_a_version_no_longer_live_is_not_published(
    client: TestClient, api: Api
) -> None:
    """Another check's publish made a version live while this one ran: this one was
    compared with the model live before, so publishing it is refused, saying why."""
    eve = await api.agent("eve", role="editor")
    editor = await client.app[ACCOUNTS].agent_for_token(eve, STUDIO_ROLES)
    editing = client.app[EDITING]
    check_id, _ = await editing.add_check(editor)  # not started: the line was not woken
    await editing.update_check(check_id, state="passed", live_version=None)
    version_id = await editing.add_version(None, editor, "0" * 12, "")
    await editing.went_live(version_id, editor, None, "publish", 0.0)
    refused = await api.call("POST", f"/studio/api/checks/{check_id}/publish", eve, {}, status=409)
    assert refused["error"]["code"] == "stale_check"
    assert (
        f"Version {version_id} went live after check {check_id} started"
        in (refused["error"]["message"])
    )
    assert (await editing.live_version())["id"] == version_id  # nothing else went live


async def test_a_check_that_cannot_run_says_why_and_nothing_goes_live(
    client: TestClient, api: Api, content: Path
) -> None:
    """Rasa is not running here, so the check cannot learn the live model: it fails, and
    the report says so."""
    eve = await api.agent("eve", role="editor")
    check = await api.call("POST", "/studio/api/checks", eve, {}, status=202)
    for _ in range(200):
        check = await api.call("GET", f"/studio/api/checks/{check['id']}", eve, status=200)
        if check["state"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.05)  # the runner is a background task: poll its record
    assert check["state"] == "failed"
    assert "could not run" in check["error"]
    assert (await api.call("GET", "/studio/api/versions", eve, status=200))["versions"] == []


async def test_an_encoder_that_fails_to_load_leaves_grouping_by_words(
    client: TestClient, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(threads: int) -> None:
        raise RuntimeError("no such op in this TensorFlow")  # not one of the expected failures

    monkeypatch.setattr("handoff.studio.shared_encoder", broken)
    editor = await api.agent("eve", role="editor")
    await api.call("GET", "/studio/api/me", editor, status=200)  # starts loading the encoder
    for text in ("can I rent a tent", "can I rent a tent for the weekend"):
        await customer_says(client, api, text, fallback())
    grouped = await inbox(api, editor)
    assert grouped["grouping"] == "words"
    assert grouped["total_messages"] == 2
    assert [c["size"] for c in grouped["clusters"]] == [2]
