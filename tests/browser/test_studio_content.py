"""Keeping FAQs and articles in the studio (Chromium, the real servers): add an FAQ and be
warned as you type, retire one and place its phrases, two editors racing on one answer,
an article's new section quoted as the bot will, and a sheet imported after its dry run.

These write into the stack's copy of the content, which the publish test checks and
trains on next: each test puts data/ and tests/nlu back as it found them. (The publish
test edits an answer and an article through these pages and sees the bot use them.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.stack import add_agent
from tests.helpers.studio import assert_accessible, save_screenshot, sign_in, tab_to, unique
from tests.helpers.widget_page import UI_MS
from tools.serve import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEPT = ("data", "tests/nlu")


@pytest.fixture
def content(stack: Stack, tmp_path: Path) -> Iterator[Path]:
    """The stack's content folder, put back as it was when the test ends."""
    assert stack.content_dir != ROOT
    for name in KEPT:
        shutil.copytree(stack.content_dir / name, tmp_path / name)
    yield stack.content_dir
    for name in KEPT:
        shutil.rmtree(stack.content_dir / name)
        shutil.copytree(tmp_path / name, stack.content_dir / name)


@pytest.fixture
def editor(stack: Stack) -> str:
    name = unique("ezra")
    add_agent(stack, name, role="editor")
    return name


def open_faqs(page: Page, stack: Stack, editor: str) -> None:
    sign_in(page, stack, editor)
    expect(page.locator("#editor-name")).to_have_text(editor, timeout=UI_MS)
    page.get_by_role("link", name="FAQs", exact=True).click()
    expect(page.locator("#faqs tbody tr").first).to_be_visible(timeout=UI_MS)


def test_an_editor_adds_an_faq_by_keyboard_and_is_warned_about_another_faqs_phrase(
    stack: Stack, page: Page, editor: str, content: Path
) -> None:
    open_faqs(page, stack, editor)
    page.locator("#faqs-heading").focus()
    tab_to(page, page.get_by_role("button", name="New FAQ"))
    page.keyboard.press("Enter")
    form = page.locator("#faq-editor")
    key = form.get_by_label("Key", exact=True)
    expect(key).to_be_focused()
    page.keyboard.type("gear_rental")
    page.keyboard.press("Tab")
    page.keyboard.type("Not yet: we sell gear, we don't rent it.")
    form.get_by_label("Help article it links to").select_option("pitching-the-ridgeline-tent")
    phrases = form.get_by_label("Phrases customers use, one per line")
    phrases.fill("can I rent a tent\ndo you hire out stoves\nhow much is shipping")
    preview = page.locator("#faq-preview .bubble")
    expect(preview).to_contain_text("we don't rent it.")
    expect(preview.get_by_role("link", name="Pitching the Ridgeline tent")).to_be_visible()
    findings = page.locator("#faq-findings")
    taken = findings.locator("li.error", has_text="'how much is shipping' is a phrase of")
    expect(taken).to_contain_text("faq/shipping_cost", timeout=UI_MS)
    expect(findings.locator("li.warning", has_text="has 3 phrases")).to_be_visible()
    assert_accessible(page)
    save_screenshot(page, "studio-faq.png")
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#faq-edit-error")
    expect(error).to_contain_text("'how much is shipping' is already a phrase of faq/shipping_cost")
    assert "gear_rental" not in (content / "data/nlu/faq.yml").read_text()

    phrases.fill("can I rent a tent\ndo you hire out stoves")
    expect(taken).to_have_count(0, timeout=UI_MS)
    phrases.focus()
    tab_to(page, page.get_by_role("button", name="Save", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator("#announcer")).to_have_text(
        "faq/gear_rental: saved. Run a check, then publish, to make it live.", timeout=UI_MS
    )
    expect(page.locator("#faq-editor-heading")).to_have_text("Edit faq/gear_rental")
    expect(page.locator('#faqs tr[data-key="gear_rental"]')).to_be_visible(timeout=UI_MS)
    nlu = (content / "data/nlu/faq.yml").read_text()
    assert nlu.endswith(
        "- intent: faq/gear_rental\n  examples: |\n"
        "    - can I rent a tent\n    - do you hire out stoves\n"
    )


def test_retiring_an_faq_places_its_phrases_where_the_editor_says(
    stack: Stack, page: Page, editor: str, content: Path
) -> None:
    open_faqs(page, stack, editor)
    page.get_by_label("Search FAQs").fill("shipping_po_box")
    row = page.locator('#faqs tr[data-key="shipping_po_box"]')
    expect(page.locator("#faqs tbody tr")).to_have_count(1, timeout=UI_MS)
    row.get_by_role("button", name="faq/shipping_po_box").click()
    expect(page.locator("#faq-editor-heading")).to_have_text("Edit faq/shipping_po_box")
    count = len(page.get_by_label("Phrases customers use, one per line").input_value().split("\n"))
    page.get_by_role("button", name="Retire…").click()
    dialog = page.get_by_role("dialog", name="Retire the FAQ")
    expect(dialog).to_contain_text(f"Its {count} phrases")
    dialog.get_by_role("button", name="Retire", exact=True).click()
    expect(dialog.locator("#retire-error")).to_have_text("Say where the phrases go.")
    dialog.get_by_label("Its phrases go to").select_option("faq/shipping_express")
    assert_accessible(page)
    dialog.get_by_role("button", name="Retire", exact=True).click()
    expect(page.locator("#announcer")).to_contain_text(
        "Retired faq/shipping_po_box: ", timeout=UI_MS
    )
    expect(page.locator("#announcer")).to_contain_text("moved to faq/shipping_express")
    expect(row).to_have_count(0, timeout=UI_MS)
    nlu = (content / "data/nlu/faq.yml").read_text()
    assert "faq/shipping_po_box" not in nlu and "can you ship to a PO box" in nlu
    assert "utter_faq/shipping_po_box" not in (content / "data/faq/responses.yml").read_text()


def test_two_editors_race_on_one_answer_and_the_second_sees_the_conflict(
    stack: Stack, page: Page, browser: Browser, editor: str, content: Path
) -> None:
    other = unique("olga")
    add_agent(stack, other, role="editor")
    second = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        for who, tab in ((editor, page), (other, second)):
            open_faqs(tab, stack, who)
            tab.get_by_role("button", name="faq/gift_wrap", exact=True).click()
            expect(tab.locator("#faq-editor-heading")).to_have_text("Edit faq/gift_wrap")
        page.locator("#faq-editor").get_by_label("Answer", exact=True).fill(
            "Gift wrap is $5 an order."
        )
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#announcer")).to_contain_text("saved", timeout=UI_MS)
        answer = second.locator("#faq-editor").get_by_label("Answer", exact=True)
        answer.fill("Gift wrap is free this month.")
        second.get_by_role("button", name="Save", exact=True).click()
        conflict = second.locator("#faq-conflict")
        expect(conflict).to_be_visible(timeout=UI_MS)
        expect(conflict).to_contain_text("Someone else saved this FAQ after you opened it")
        expect(conflict.locator(".theirs")).to_have_text("Gift wrap is $5 an order.")
        reload = conflict.get_by_role("button", name="Start from their version")
        expect(reload).to_be_focused()
        assert_accessible(second)
        responses = (content / "data/faq/responses.yml").read_text()
        assert "Gift wrap is $5 an order." in responses and "free this month" not in responses
        reload.click()
        expect(answer).to_have_value("Gift wrap is $5 an order.")
        expect(conflict).to_be_hidden()
    finally:
        second.context.close()


def test_an_article_section_is_shown_as_the_bot_will_quote_it(
    stack: Stack, page: Page, editor: str, content: Path
) -> None:
    sign_in(page, stack, editor)
    page.get_by_role("link", name="Articles", exact=True).click()
    page.get_by_role("button", name="Gift cards", exact=True).click()
    body = page.get_by_label("Text (Markdown: each ## heading starts a section)")
    expect(body).not_to_be_empty(timeout=UI_MS)
    body.press("End")
    body.press("Control+End")
    body.type("\n## Do gift cards expire?\nNo: a Larkspur gift card never expires.\n")
    passage = page.locator("#article-preview .passage", has_text="Do gift cards expire?")
    expect(passage.locator(".bubble")).to_contain_text(
        "No: a Larkspur gift card never expires.\n\nMore in our help centre:", timeout=UI_MS
    )
    expect(passage.get_by_role("link", name="Gift cards")).to_have_attribute(
        "href", "https://larkspur-outdoor.example/help/gift-cards"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#announcer")).to_contain_text("gift-cards: saved", timeout=UI_MS)
    text = (content / "data/articles/gift-cards.md").read_text()
    assert text.endswith("## Do gift cards expire?\nNo: a Larkspur gift card never expires.\n")


def test_a_sheet_is_imported_after_its_dry_run(
    stack: Stack, page: Page, editor: str, content: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "faqs.csv"
    sheet.write_text(
        "key,questions,answer,article\n"
        'kayak_rental,"do you rent kayaks\nCan I hire a kayak?",Not yet.,\n'
        ",can you repair a kayak,,\n"
    )
    sign_in(page, stack, editor)
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Sheet").set_input_files(sheet)
    page.get_by_role("button", name="Dry run").click()
    summary = page.locator("#sheet-summary")
    expect(summary).to_have_text(
        "Dry run, nothing written yet: 1 new, 0 updated, 0 unchanged, 1 skipped.", timeout=UI_MS
    )
    skipped = page.locator("#sheet-rows tr", has_text="Skipped")
    expect(skipped).to_contain_text("no answer")
    expect(skipped.locator("th")).to_have_text("3")
    assert "kayak_rental" not in (content / "data/nlu/faq.yml").read_text()
    assert_accessible(page)
    page.get_by_role("button", name="Apply").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("1 good row will be written")
    dialog.get_by_role("button", name="Apply").click()
    expect(summary).to_have_text(
        "Applied: 1 new, 0 updated, 0 unchanged, 1 skipped.", timeout=UI_MS
    )
    assert "faq/kayak_rental" in (content / "data/nlu/faq.yml").read_text()
