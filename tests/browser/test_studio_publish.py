"""The studio's whole loop in Chromium on the real servers: an editor starts a new FAQ from
customers' messages the bot did not cover, edits another FAQ's answer and adds a section
to an article on their pages, checks it (the worker validates, trains and gates a real
candidate), publishes it, sees the widget answer with all three, and rolls back.

One check trains a model, which takes minutes: this is the suite's one real check (a
second one, asked for while it trains, waits in line and is still training when the first
is published; the test does not wait for it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Page, expect

from tests.helpers.stack import add_agent, call
from tests.helpers.studio import customers_say, in_a_thread, login_token, sign_in, unique
from tests.helpers.widget_client import WidgetClient
from tests.helpers.widget_page import BOT_MS, UI_MS
from tools.serve import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A topic the shipped bot does not cover (nor do the other studio tests).
ENGRAVING = [
    "can you engrave my name on a water bottle",
    "do you offer engraving on pocket knives",
    "any chance you do engraving on bottles",
    "could I get my initials engraved on a flask",
    "engraving service for a camping mug?",
    "how much does it cost to engrave a trekking pole",
]
ANSWER = "Yes: any Larkspur store engraves bottles, flasks and knives while you wait, free."
# Asked before and after: with its few first phrases the new FAQ answers this surely.
PROBE = "do you do engraving"
CHECK_MS = 1_200_000  # the candidate trains on the test machine's two cores
GIFT_WRAP = "Gift wrap is $3.50 an order now, with a handwritten card."
GIFT_PROBE = "do you offer gift wrapping"
SECTION = (
    "## Pitching the Ridgeline on a wooden deck platform\n"
    "Use the Ridgeline platform kit: four cord loops wrap around the deck boards, so no "
    "stakes are needed.\n"
)
PLATFORM = "Use the Ridgeline platform kit"
PLATFORM_PROBE = "how do I pitch my ridgeline tent on a wooden deck platform"


def git(work_tree: Path, *args: str) -> str:
    """git on the test's own copy of the content."""
    command = ["git", "-C", str(work_tree), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - fixed argv built here, no shell


def in_git(content: Path) -> None:
    if not (content / ".git").exists():
        git(content, "init", "-q")
    git(content, "add", "-A")
    git(content, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "content")


async def answer_to(stack: Stack, text: str) -> str:
    """What the bot says to a new customer who says ``text``."""
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(http, stack.handoff_url)
        await widget.open()
        try:
            return str((await widget.ask(text, BOT_MS / 1000))["text"])
        finally:
            await widget.close()


def engraving_cluster(stack: Stack, token: str, page: Page) -> dict[str, Any]:
    """The cluster with most of the engraving messages, once grouped."""
    for _ in range(600):
        _, inbox = call(stack, "GET", "/studio/api/inbox?limit=500", token)
        ranked = sorted(
            inbox["clusters"],
            key=lambda c: -sum(m["text"] in ENGRAVING for m in c["messages"]),
        )
        if not inbox["stale"] and ranked:
            best = ranked[0]
            if sum(m["text"] in ENGRAVING for m in best["messages"]) >= 4:
                return dict(best)
        page.wait_for_timeout(100)  # polled: the grouping runs in the service's thread
    raise AssertionError(f"the engraving messages never became one cluster: {inbox}")


def confirm(page: Page, button: str) -> None:
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible(timeout=UI_MS)
    dialog.get_by_role("button", name=button).click()


def edit_gift_wrap_and_an_article(page: Page) -> None:
    """On the FAQs and Articles pages: a new answer for gift wrap, a new tent section."""
    page.get_by_role("link", name="FAQs", exact=True).click()
    page.get_by_role("button", name="faq/gift_wrap", exact=True).click()
    form = page.locator("#faq-editor")
    expect(form.get_by_role("heading", level=3)).to_have_text("Edit faq/gift_wrap", timeout=UI_MS)
    form.get_by_label("Answer", exact=True).fill(GIFT_WRAP)
    expect(form.locator("#faq-preview")).to_have_text(GIFT_WRAP)
    form.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#announcer")).to_contain_text("faq/gift_wrap: saved", timeout=UI_MS)
    page.get_by_role("link", name="Articles", exact=True).click()
    page.get_by_role("button", name="Pitching the Ridgeline tent", exact=True).click()
    body = page.get_by_label("Text (Markdown: each ## heading starts a section)")
    expect(body).not_to_be_empty(timeout=UI_MS)
    body.fill(body.input_value() + "\n" + SECTION)
    preview = page.locator("#article-preview .passage", has_text="wooden deck platform")
    expect(preview).to_contain_text(PLATFORM, timeout=UI_MS)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#announcer")).to_contain_text("saved", timeout=UI_MS)


def test_an_editor_creates_checks_publishes_and_rolls_back_an_faq(stack: Stack, page: Page) -> None:
    assert stack.content_dir != ROOT  # the studio writes into a copy, never the checkout
    in_git(stack.content_dir)
    editor = unique("pia")
    add_agent(stack, editor, role="editor")
    in_a_thread(customers_say(stack, ENGRAVING))
    cluster = engraving_cluster(stack, login_token(stack, editor), page)

    sign_in(page, stack, editor)
    card = page.locator(f'section.cluster[data-cluster="{cluster["id"]}"]')
    expect(card).to_be_visible(timeout=UI_MS)
    for message in cluster["messages"]:  # only the engraving messages stay ticked
        if message["text"] not in ENGRAVING:
            card.get_by_label(message["text"], exact=True).uncheck()
    card.get_by_role("button", name="New FAQ…").click()
    dialog = page.get_by_role("dialog", name="New FAQ")
    dialog.get_by_label("Key", exact=True).fill("engraving")
    dialog.get_by_label("Answer", exact=True).fill(ANSWER)
    dialog.get_by_role("button", name="Create FAQ").click()
    expect(card).to_be_hidden(timeout=UI_MS)
    assert ANSWER not in in_a_thread(answer_to(stack, PROBE))  # labelled, not yet live
    edit_gift_wrap_and_an_article(page)
    assert GIFT_WRAP not in in_a_thread(answer_to(stack, GIFT_PROBE))  # saved, not live
    assert PLATFORM not in in_a_thread(answer_to(stack, PLATFORM_PROBE))

    page.get_by_role("link", name="Check & publish").click()
    run = page.get_by_role("button", name="Run a check")
    run.click()
    message, heading = page.locator("#check-message"), page.locator("#check .check-head h3")
    expect(message).to_have_text(re.compile(r"Check \d+ started\."), timeout=UI_MS)
    first = int(message.inner_text().split()[1])
    run.click()  # a second check waits for the first, and the page says so
    expect(message).to_contain_text("yours is queued", timeout=UI_MS)
    expect(page.locator("#check .badge.state")).to_have_text("Queued")
    second = int(heading.inner_text().split()[-1])
    assert second > first
    page.get_by_role("button", name=f"Show check {first}").click()
    expect(heading).to_have_text(f"Check {first}")
    publish = page.get_by_role("button", name="Publish")
    check = page.locator("#check")
    # Wait for any outcome, so that a failed check fails the test at once, saying why.
    expect(check).to_contain_text(re.compile("Passed|Blocked|Failed"), timeout=CHECK_MS)
    assert "Passed" in check.inner_text(), check.inner_text()
    expect(publish).to_be_enabled()
    publish.click()  # while the second check trains: it will have to run again, said so
    expect(page.locator("#confirm-dialog")).to_contain_text(
        re.compile(f"Check {second} is (running against the version live now|queued)")
    )
    confirm(page, "Publish")
    expect(page.locator("#announcer")).to_contain_text(" is live", timeout=UI_MS * 8)
    assert ANSWER in in_a_thread(answer_to(stack, PROBE))
    assert GIFT_WRAP in in_a_thread(answer_to(stack, GIFT_PROBE))
    assert PLATFORM in in_a_thread(answer_to(stack, PLATFORM_PROBE))  # the new section
    assert git(stack.content_dir, "log", "-1", "--format=%an").strip() == editor
    committed = git(stack.content_dir, "show", "--format=", "HEAD")
    assert "faq/engraving" in committed and ANSWER in committed

    _, listed = call(stack, "GET", "/studio/api/versions", login_token(stack, editor))
    [first] = [v for v in listed["versions"] if v["original"]]
    page.get_by_role("link", name="Versions").click()
    original = page.locator(f'#versions tr[data-version="{first["id"]}"]')
    expect(original).to_contain_text("the original")
    expect(original).to_be_visible(timeout=UI_MS)
    original.get_by_role("button", name=f"Make version {first['id']} live again").click()
    confirm(page, "Make live again")
    # A roll back is a new version of the original, live from now on.
    restored = page.locator("#versions tr", has_text=f"restored from {first['id']}")
    expect(restored.locator(".badge")).to_have_text("Live", timeout=UI_MS * 8)
    assert ANSWER not in in_a_thread(answer_to(stack, PROBE))
    assert GIFT_WRAP not in in_a_thread(answer_to(stack, GIFT_PROBE))
    assert PLATFORM not in in_a_thread(answer_to(stack, PLATFORM_PROBE))
    traffic = stack.content_dir / "data/nlu/traffic.yml"  # data/ as the original had it
    assert not traffic.exists() or "faq/engraving" not in traffic.read_text()
    assert "utter_faq/engraving" not in (stack.content_dir / "data/faq/responses.yml").read_text()

    token = login_token(stack, editor)
    _, checks = call(stack, "GET", "/studio/api/checks", token)
    published = next(c for c in checks["checks"] if c["state"] == "published")
    status, again = call(stack, "POST", f"/studio/api/checks/{published['id']}/publish", token, {})
    assert (status, again["error"]["code"]) == (409, "not_passed")
    _, listed = call(stack, "GET", "/studio/api/versions", token)
    live = next(v for v in listed["versions"] if v["live"])
    assert live["restored_from"] == first["id"]
    status, twice = call(stack, "POST", f"/studio/api/versions/{live['id']}/restore", token, {})
    assert (status, twice["error"]["code"]) == (409, "already_live")
