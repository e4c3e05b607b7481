"""Editing FAQs on a copy of the content: answers, phrases, new keys, renames, retirement."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from studio.faqs import CURATED_FILE, RESPONSES_FILE, Faqs, split_answer
from studio.files import ContentError
from tests.helpers.content import changed_lines, files


def _safe(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def _examples(root: Path, name: str, intent: str) -> list[str]:
    for block in _safe(root / name)["nlu"]:
        if block.get("intent") == intent:
            return [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
    return []


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith("#")]


def test_an_faq_reads_as_its_files_say(content_root: Path) -> None:
    faq = Faqs(content_root).get("shipping_cost")
    response = _safe(content_root / RESPONSES_FILE)["responses"]["utter_faq/shipping_cost"]
    assert faq.text == response[0]["text"]
    assert faq.article == "shipping-rates-and-times"
    assert faq.answer.startswith("Standard US shipping") and "](" not in faq.answer
    assert [p.text for p in faq.phrases] == _examples(
        content_root, CURATED_FILE, "faq/shipping_cost"
    )
    assert faq.held_out == len(
        _examples(content_root, "tests/nlu/heldout.yml", "faq/shipping_cost")
    )
    assert faq.version == Faqs(content_root).get("shipping_cost").version


def test_editing_an_answer_changes_its_line_only(content_root: Path) -> None:
    before = files(content_root)
    faqs = Faqs(content_root)
    faq = faqs.get("shipping_cost")
    saved = faqs.save(
        "shipping_cost",
        faq.version,
        "Shipping is free over $75.",
        faq.article,
        [p.text for p in faq.phrases],
    )
    after = files(content_root)
    assert [n for n in after if after[n] != before[n]] == [RESPONSES_FILE]
    removed, added = changed_lines(before[RESPONSES_FILE], after[RESPONSES_FILE])
    assert len(removed) == len(added) == 1
    assert added[0].strip() == (
        '- text: "Shipping is free over $75. [Shipping rates and delivery times]'
        '(https://larkspur-outdoor.example/help/shipping-rates-and-times)"'
    )
    assert saved.version != faq.version and split_answer(saved.text)[0] == saved.answer


def test_editing_phrases_removes_and_adds_only_those_lines(content_root: Path) -> None:
    before = files(content_root)
    faqs = Faqs(content_root)
    faq = faqs.get("shipping_cost")
    phrases = [p.text for p in faq.phrases if p.text != "shipping cost?"] + ["postage to Alaska?"]
    faqs.save("shipping_cost", faq.version, faq.answer, faq.article, phrases)
    after = files(content_root)
    assert changed_lines(before[CURATED_FILE], after[CURATED_FILE]) == (
        ["    - shipping cost?"],
        ["    - postage to Alaska?"],
    )
    assert [n for n in after if after[n] != before[n]] == [CURATED_FILE]


def test_an_edit_based_on_an_older_version_is_refused_with_the_newer_one(
    content_root: Path,
) -> None:
    faqs = Faqs(content_root)
    opened = faqs.get("return_cost")
    phrases = [p.text for p in opened.phrases]
    first = faqs.save("return_cost", opened.version, "Returns cost $5.95.", None, phrases)
    before = files(content_root)
    with pytest.raises(ContentError) as raised:
        faqs.save("return_cost", opened.version, "Returns are free.", None, phrases)
    assert raised.value.code == "stale_edit"
    assert raised.value.detail == {"current": first.as_dict()}
    assert raised.value.detail["current"]["answer"] == "Returns cost $5.95."
    assert files(content_root) == before


@pytest.mark.parametrize(
    ("phrase", "names"),
    [
        ("how much is shipping", "faq/shipping_cost (data/nlu/faq.yml)"),
        ("How much is  shipping??", "faq/shipping_cost"),
        ("hi", "greet"),
        ("Is the return label free?", "held-out test set tests/nlu/heldout.yml"),
    ],
)
def test_a_phrase_another_intent_or_the_held_out_set_has_is_refused(
    content_root: Path, phrase: str, names: str
) -> None:
    faqs = Faqs(content_root)
    faq = faqs.get("return_cost")
    phrases = [p.text for p in faq.phrases] + [phrase]
    before = files(content_root)
    with pytest.raises(ContentError) as raised:
        faqs.save(faq.key, faq.version, faq.answer, faq.article, phrases)
    assert raised.value.code == "phrase_taken" and names in raised.value.message
    assert files(content_root) == before


def test_a_phrase_it_already_has_does_not_stop_an_edit(content_root: Path) -> None:
    """return_window's "return period?" is also in the held-out set: saving it as it is
    must still work (the lint reports the overlap)."""
    faqs = Faqs(content_root)
    faq = faqs.get("return_window")
    saved = faqs.save(
        faq.key, faq.version, "Within 45 days.", faq.article, [p.text for p in faq.phrases]
    )
    assert saved.answer == "Within 45 days." and saved.phrases == faq.phrases


def test_a_new_faq_lands_at_the_end_of_both_files(content_root: Path) -> None:
    before = files(content_root)
    phrases = ["do you rent tents", "can I hire a tent for a weekend"]
    faq = Faqs(content_root).create(
        "gear_rental", "We don't rent gear yet.", "pitching-the-ridgeline-tent", phrases
    )
    after = files(content_root)
    assert faq.name == "faq/gear_rental" and faq.article == "pitching-the-ridgeline-tent"
    assert _examples(content_root, CURATED_FILE, "faq/gear_rental") == phrases
    for name in (CURATED_FILE, RESPONSES_FILE):
        assert after[name].startswith(before[name])  # only added, at the end
    assert faq.text.endswith("(https://larkspur-outdoor.example/help/pitching-the-ridgeline-tent)")


@pytest.mark.parametrize(
    ("key", "article", "code"),
    [
        ("shipping_cost", None, "key_taken"),
        ("greet", None, "key_taken"),
        ("Gear Rental", None, "invalid_key"),
        ("gear_rental", "renting-gear", "unknown_article"),
    ],
)
def test_a_new_faq_is_checked(content_root: Path, key: str, article: str | None, code: str) -> None:
    with pytest.raises(ContentError) as raised:
        Faqs(content_root).create(key, "An answer.", article, ["do you rent tents"])
    assert raised.value.code == code


def test_renaming_follows_the_faq_into_every_file(content_root: Path) -> None:
    faqs = Faqs(content_root)
    old = faqs.get("shipping_time")
    renamed = faqs.rename("shipping_time", old.version, "delivery_time")
    assert (renamed.answer, renamed.phrases, renamed.held_out) == (
        old.answer,
        old.phrases,
        old.held_out,
    )
    for name in (CURATED_FILE, "tests/nlu/heldout.yml", RESPONSES_FILE, "tests/test_stories.yml"):
        assert "shipping_time" not in (content_root / name).read_text()
    assert "intent: faq/delivery_time" in (content_root / "tests/test_stories.yml").read_text()
    with pytest.raises(ContentError, match="unknown_faq"):
        faqs.get("shipping_time")


def test_an_faq_the_escalation_policy_names_is_not_renamed_or_retired(content_root: Path) -> None:
    faqs = Faqs(content_root)
    version = faqs.get("close_account").version
    with pytest.raises(ContentError, match="named_in_policy"):
        faqs.rename("close_account", version, "delete_account")
    with pytest.raises(ContentError, match="named_in_policy"):
        faqs.retire("close_account", version, "out_of_scope")


def test_retiring_moves_every_phrase_and_keeps_every_comment(content_root: Path) -> None:
    before = files(content_root)
    faqs = Faqs(content_root)
    retired = faqs.get("shipping_damaged_item")  # the last of its section: a heading follows
    express = faqs.get("shipping_express")
    gone = [p.text for p in retired.phrases]
    held = _examples(content_root, "tests/nlu/heldout.yml", retired.name)
    result = faqs.retire(retired.key, retired.version, "faq/shipping_express")
    assert result["moved"] == len(gone) + len(held) and result["duplicates"] == 0
    assert [p.text for p in faqs.get("shipping_express").phrases] == [
        *(p.text for p in express.phrases),
        *gone,
    ]
    assert (
        _examples(content_root, "tests/nlu/heldout.yml", "faq/shipping_express")[-len(held) :]
        == held
    )
    after = files(content_root)
    for name in (CURATED_FILE, RESPONSES_FILE, "tests/nlu/heldout.yml"):
        assert "shipping_damaged_item" not in after[name]
        assert _comments(after[name]) == _comments(before[name])
    with pytest.raises(ContentError, match="unknown_faq"):
        faqs.get(retired.key)


@pytest.mark.parametrize("destination", ["faq/shipping_cost", "ask_weather", "faq/no_such_faq"])
def test_retiring_needs_somewhere_else_for_the_phrases(
    content_root: Path, destination: str
) -> None:
    faqs = Faqs(content_root)
    faq = faqs.get("shipping_cost")
    with pytest.raises(ContentError, match="unknown_destination"):
        faqs.retire("shipping_cost", faq.version, destination)


def test_retiring_into_an_faq_that_has_the_phrase_drops_the_duplicate(content_root: Path) -> None:
    faqs = Faqs(content_root)
    cost = faqs.get("return_cost")
    phrases = [p.text for p in cost.phrases] + ["is postage on a return free"]
    faqs.save("return_cost", cost.version, cost.answer, cost.article, phrases)
    # The studio will not save one message for two FAQs, so write it as a developer might.
    path = content_root / "data/nlu/traffic.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: faq/return_window\n  examples: |\n'
        "    - Is postage on a return free?\n"
    )
    window = faqs.get("return_window")
    result = faqs.retire("return_window", window.version, "faq/return_cost")
    assert result["duplicates"] >= 1
    assert result["moved"] + result["duplicates"] == len(window.phrases) + window.held_out
    kept = [p.text for p in faqs.get("return_cost").phrases]
    assert kept.count("is postage on a return free") == 1
    assert "Is postage on a return free?" not in kept
    assert "faq/return_window" not in path.read_text()


def test_a_phrase_respelt_is_saved_in_its_place(content_root: Path) -> None:
    faqs = Faqs(content_root)
    faq = faqs.get("shipping_cost")
    phrases = [
        p.text if p.text != "how much is shipping" else "How much is shipping?" for p in faq.phrases
    ]
    saved = faqs.save("shipping_cost", faq.version, faq.answer, faq.article, phrases)
    assert [p.text for p in saved.phrases] == phrases


def test_an_faq_the_test_conversations_use_retires_only_into_another_faq(
    content_root: Path,
) -> None:
    faqs = Faqs(content_root)
    faq = faqs.get("contact_hours")
    with pytest.raises(ContentError, match="named_in_tests"):
        faqs.retire("contact_hours", faq.version, "request_human")
    faqs.retire("contact_hours", faq.version, "faq/phone_number")
    stories = (content_root / "tests/test_stories.yml").read_text()
    assert "faq/contact_hours" not in stories and "intent: faq/phone_number" in stories


def test_characters_yaml_cannot_hold_become_spaces(content_root: Path) -> None:
    """A control character (pasted, or fuzzed) must not make a file Rasa cannot read."""
    created = Faqs(content_root).create(
        "gear_rental",
        "We don't\x16 rent gear.",
        None,
        ["do you\x0b rent tents", "hire a\x00 stove"],
    )
    assert created.answer == "We don't  rent gear."
    assert [p.text for p in created.phrases] == ["do you rent tents", "hire a stove"]
    YAML(typ="safe").load((content_root / CURATED_FILE).read_text())
