"""The content checks, on the shipped content and on copies with one problem each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from studio.faqs import RESPONSES_FILE, Faqs
from studio.lint import Draft, lint

REPO = Path(__file__).resolve().parents[2]


def _codes(found: list) -> set[str]:
    return {f.code for f in found}


def test_the_shipped_content_has_no_errors() -> None:
    found = lint(REPO)
    assert [f.line() for f in found if f.level == "error"] == []


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_each_problem_is_found_where_it_is(content_root: Path) -> None:
    responses = content_root / RESPONSES_FILE
    _replace(responses, "utter_faq/shipping_po_box:", "utter_faq/shipping_po_boxes:")
    _replace(responses, "/help/refunds)", "/help/refund-policy)")
    _replace(
        content_root / "data/nlu/faq.yml", "    - delivery fee\n", "    - delivery fee\n    - hi\n"
    )
    article = content_root / "data/articles/gift-cards.md"
    _replace(article, "slug: gift-cards", "slug: giftcards")
    found = {(f.code, f.subject): f for f in lint(content_root)}
    assert found[("faq_without_answer", "faq/shipping_po_box")].file == "data/nlu/faq.yml"
    assert found[("answer_without_faq", "faq/shipping_po_boxes")].level == "error"
    assert "'refund-policy'" in found[("dead_link", "faq/refund_time")].message
    assert found[("phrase_in_two_intents", "faq/shipping_cost")].detail["other_intent"] == "greet"
    assert found[("phrase_in_two_intents", "greet")].file == "data/nlu/core.yml"
    assert found[("slug_mismatch", "gift-cards")].file == "data/articles/gift-cards.md"


def test_a_draft_is_checked_against_the_rest_and_only_its_findings_come_back(
    content_root: Path,
) -> None:
    draft = Draft(
        "gear_rental",
        "We rent tents. " * 40,
        "renting-gear",
        ("can i rent a tent", "how much is shipping", "how much is the shipping"),
    )
    found = lint(content_root, draft)
    assert {f.subject for f in found} == {"faq/gear_rental"}
    assert _codes(found) == {
        "phrase_in_two_intents",
        "phrases_too_similar",
        "few_phrases",
        "answer_too_long",
        "dead_link",
    }
    similar = next(f for f in found if f.code == "phrases_too_similar")
    assert similar.detail["phrase"] == "how much is the shipping"
    assert similar.detail["other_intent"] == "faq/shipping_cost"
    assert similar.detail["similarity"] >= 0.8


def test_a_draft_phrase_from_the_held_out_set_is_an_error(content_root: Path) -> None:
    faq = Faqs(content_root).get("return_cost")
    phrases = (*(p.text for p in faq.phrases), "is the return label free")
    found = lint(content_root, Draft("return_cost", faq.answer, faq.article, phrases))
    assert [f.code for f in found if f.level == "error"] == ["in_held_out"]


def test_the_terminal_prints_a_line_each_and_fails_on_an_error(content_root: Path) -> None:
    _replace(content_root / RESPONSES_FILE, "/help/refunds)", "/help/refund-policy)")
    done = subprocess.run(  # noqa: S603 - fixed argv built here, no shell
        [sys.executable, "-m", "studio.lint", "--root", str(content_root)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "ERROR   data/faq/responses.yml: the answer of faq/refund_time links" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("content checks: 1 errors,")
