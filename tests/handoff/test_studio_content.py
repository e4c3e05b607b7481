"""The studio's FAQ and article routes over the real app and database, on a content copy."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from handoff.state import SETTINGS, STORE
from studio.content import Content
from tests.helpers.service import Api, bearer
from tools.serve import ROOT

S = "/studio/api"


@pytest.fixture
def content(client: TestClient) -> Path:
    root = Path(client.app[SETTINGS].content_dir)
    Content(ROOT).snapshot(root)
    return root


async def test_the_list_shows_usage_and_votes_of_the_last_30_days(
    client: TestClient, api: Api, content: Path
) -> None:
    editor = await api.agent("eve", role="editor")
    store = client.app[STORE]
    conversation, token = await api.session()
    shipping = {"kind": "faq", "key": "faq/shipping_cost"}
    for helpful in (False, True, None):
        await store.customer_message(conversation, "how much is shipping", None)
        answer = await store.say(conversation, "bot", "Free over $75.", None, shipping)
        if helpful is not None:
            url = f"/conversations/{conversation}/feedback"
            body = {"seq": answer["seq"], "helpful": helpful}
            response = await client.post(url, json=body, headers=bearer(token))
            assert response.status == 200
    listed = await api.call("GET", f"{S}/faqs", editor, status=200)
    rows = {row["key"]: row for row in listed["faqs"]}
    assert (rows["shipping_cost"]["answered"], rows["shipping_cost"]["rated"]) == (3, 2)
    assert rows["shipping_cost"]["unhelpful"] == 1
    assert rows["return_cost"]["answered"] == 0
    assert rows["shipping_cost"]["phrase_count"] >= 12 and listed["days"] == 30
    found = await api.call("GET", f"{S}/faqs?q=PO_BOX", editor, status=200)
    assert [row["key"] for row in found["faqs"]] == ["shipping_po_box"]


async def test_an_edit_is_saved_audited_and_a_stale_one_is_a_conflict_with_the_newer(
    client: TestClient, api: Api, content: Path
) -> None:
    eve, max_ = await api.agent("eve", role="editor"), await api.agent("max", role="editor")
    opened = await api.call("GET", f"{S}/faqs/gift_wrap", eve, status=200)
    phrases = [p["text"] for p in opened["phrases"]]
    body = {"version": opened["version"], "answer": "Gift wrap is $5.", "phrases": phrases}
    body["article"] = opened["article"] or ""
    saved = await api.call("PUT", f"{S}/faqs/gift_wrap", eve, body, status=200)
    assert saved["answer"] == "Gift wrap is $5." and saved["version"] != opened["version"]
    late = {**body, "answer": "Gift wrap is free."}
    refused = await api.call("PUT", f"{S}/faqs/gift_wrap", max_, late, status=409)
    assert refused["error"]["code"] == "stale_edit"
    assert refused["error"]["current"]["answer"] == "Gift wrap is $5."
    assert "Gift wrap is free." not in (content / "data/faq/responses.yml").read_text()
    [change] = (await api.call("GET", f"{S}/changes", eve, status=200))["changes"]
    assert (change["editor"], change["action"]) == ("eve", "faq_edited")
    assert change["detail"]["answer"]["after"].startswith("Gift wrap is $5.")


async def test_create_rename_retire_and_their_refusals(
    client: TestClient, api: Api, content: Path
) -> None:
    eve = await api.agent("eve", role="editor")
    body = {"key": "gear_rental", "answer": "Not yet.", "phrases": ["do you rent tents"]}
    created = await api.call("POST", f"{S}/faqs", eve, body, status=201)
    again = await api.call("POST", f"{S}/faqs", eve, body, status=400)
    assert again["error"]["code"] == "key_taken"
    taken = {**body, "key": "tent_hire", "phrases": ["how much is shipping"]}
    refused = await api.call("POST", f"{S}/faqs", eve, taken, status=400)
    assert refused["error"]["code"] == "phrase_taken"
    assert "faq/shipping_cost" in refused["error"]["message"]
    rename = {"version": created["version"], "key": "rentals"}
    renamed = await api.call("POST", f"{S}/faqs/gear_rental/rename", eve, rename, status=200)
    assert renamed["name"] == "faq/rentals"
    await api.call("GET", f"{S}/faqs/gear_rental", eve, status=404)
    retire = {"version": renamed["version"], "destination": "search_help"}
    retired = await api.call("POST", f"{S}/faqs/rentals/retire", eve, retire, status=200)
    assert (retired["moved"], retired["destination"]) == (1, "search_help")
    actions = [c["action"] for c in (await api.call("GET", f"{S}/changes", eve))["changes"]]
    assert actions == ["faq_retired", "faq_renamed", "faq_created"]


async def test_a_draft_is_checked_as_typed(client: TestClient, api: Api, content: Path) -> None:
    eve = await api.agent("eve", role="editor")
    draft = {"key": "gear_rental", "answer": "x", "phrases": ["how much is the shipping"]}
    found = (await api.call("POST", f"{S}/faq-checks", eve, draft, status=200))["findings"]
    similar = next(f for f in found if f["code"] == "phrases_too_similar")
    assert similar["detail"]["other"] == "how much is shipping"
    assert {f["code"] for f in found} >= {"few_phrases", "phrases_too_similar"}
    everything = await api.call("GET", f"{S}/content-checks", eve, status=200)
    assert not [f for f in everything["findings"] if f["level"] == "error"]


async def test_a_sheet_is_a_dry_run_until_applied_and_exports_back(
    client: TestClient, api: Api, content: Path
) -> None:
    eve = await api.agent("eve", role="editor")
    sheet = b"key,questions,answer\ngear_rental,do you rent tents,Not yet.\n,,\nx,,\n"
    body = {"filename": "faqs.csv", "content": base64.b64encode(sheet).decode()}
    dry = await api.call("POST", f"{S}/faq-sheet", eve, body, status=200)
    assert dry["counts"] == {"create": 1, "update": 0, "unchanged": 0, "skip": 1}
    assert not dry["applied"] and "gear_rental" not in (content / "data/nlu/faq.yml").read_text()
    blind = await api.call("POST", f"{S}/faq-sheet", eve, {**body, "apply": True}, status=400)
    assert blind["error"]["code"] == "missing_version"
    applied = await api.call(
        "POST", f"{S}/faq-sheet", eve, {**body, "apply": True, "version": dry["version"]}, 200
    )
    assert applied["applied"] and applied["files"] == ["data/faq/responses.yml", "data/nlu/faq.yml"]
    stale = await api.call(
        "POST", f"{S}/faq-sheet", eve, {**body, "apply": True, "version": dry["version"]}, 409
    )
    assert stale["error"]["code"] == "stale_import"
    response = await client.get(f"{S}/faq-sheet", headers=bearer(eve))
    assert response.status == 200 and response.content_type == "text/csv"
    exported = await response.read()
    back = {"filename": "faqs.csv", "content": base64.b64encode(exported).decode()}
    report = await api.call("POST", f"{S}/faq-sheet", eve, back, status=200)
    assert report["counts"]["unchanged"] == len(report["rows"])
    bad = await api.call("POST", f"{S}/faq-sheet", eve, {**body, "content": "*"}, status=400)
    assert bad["error"]["code"] == "invalid_sheet"
    [change, *_] = (await api.call("GET", f"{S}/changes", eve))["changes"]
    assert change["action"] == "faqs_imported" and change["detail"]["create"] == 1


async def test_an_article_is_previewed_saved_and_quoted_as_the_bot_will(
    client: TestClient, api: Api, content: Path
) -> None:
    eve = await api.agent("eve", role="editor")
    opened = await api.call("GET", f"{S}/articles/gift-cards", eve, status=200)
    body = opened["body"] + "\n## Do gift cards expire?\nNo, never.\n"
    fields = {"title": opened["title"], "slug": "gift-cards", "tags": opened["tags"], "body": body}
    preview = await api.call("POST", f"{S}/article-preview", eve, fields, status=200)
    assert preview["passages"][-1]["answer"].startswith("No, never.\n\nMore in our help centre")
    assert "Do gift cards expire" not in (content / "data/articles/gift-cards.md").read_text()
    saved = await api.call(
        "PUT", f"{S}/articles/gift-cards", eve, {**fields, "version": opened["version"]}, 200
    )
    assert saved["passages"][-1]["heading"] == "Do gift cards expire?"
    stale = await api.call(
        "PUT", f"{S}/articles/gift-cards", eve, {**fields, "version": opened["version"]}, 409
    )
    assert stale["error"]["current"]["version"] == saved["version"]
    await api.call("GET", f"{S}/articles/no-such-article", eve, status=404)
    listed = await api.call("GET", f"{S}/articles", eve, status=200)
    assert "gift-cards" in {a["slug"] for a in listed["articles"]}


async def test_the_first_edit_points_the_action_server_at_the_articles_as_they_were(
    client: TestClient, api: Api, content: Path
) -> None:
    """Until a publish, the bot quotes the articles as the studio found them, not drafts."""
    eve = await api.agent("eve", role="editor")
    studio_dir = Path(client.app[SETTINGS].studio_dir)
    opened = await api.call("GET", f"{S}/articles/gift-cards", eve, status=200)
    fields = {k: opened[k] for k in ("title", "slug", "tags", "version")}
    body = {**fields, "body": opened["body"] + "\n## Draft\nNot yet.\n"}
    await api.call("PUT", f"{S}/articles/gift-cards", eve, body, status=200)
    live = studio_dir / "live-articles"
    assert live.resolve() == (studio_dir / "baseline/data/articles").resolve()
    assert "## Draft" not in (live / "gift-cards.md").read_text()
    assert "## Draft" in (content / "data/articles/gift-cards.md").read_text()
