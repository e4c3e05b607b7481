"""The NLU quality gate: held-out intent macro-F1, FAQ selection, out-of-scope fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.evaluation import (
    HELDOUT_IN_SCOPE,
    MIN_FAQ_ACCURACY,
    MIN_INTENT_MACRO_F1,
    MIN_OOS_RECALL,
    Report,
    evaluate,
    format_errors,
    load_examples,
)


@pytest.fixture(scope="module")
def report(trained_model: Path) -> Report:
    return evaluate(trained_model)[0]


def test_heldout_covers_every_intent_and_faq() -> None:
    import yaml

    domain = yaml.safe_load(Path("domain.yml").read_text())
    faq_keys = {
        key
        for block in yaml.safe_load(Path("data/nlu/faq.yml").read_text())["nlu"]
        for key in [block.get("intent")]
        if key
    }
    examples = load_examples(HELDOUT_IN_SCOPE)
    seen = {e.intent for e in examples} | {e.response_key for e in examples if e.response_key}
    wanted = (set(domain["intents"]) - {"out_of_scope"}) | faq_keys
    assert wanted - seen == set()
    assert len(examples) >= 300


@pytest.mark.slow
def test_intent_macro_f1(report: Report) -> None:
    assert report.intent_macro_f1 >= MIN_INTENT_MACRO_F1, format_errors(report.errors)


@pytest.mark.slow
def test_faq_response_selection(report: Report) -> None:
    assert report.faq_accuracy >= MIN_FAQ_ACCURACY, format_errors(report.errors)


@pytest.mark.slow
def test_out_of_scope_fallback_recall(report: Report) -> None:
    assert report.oos_count >= 100
    assert report.oos_recall >= MIN_OOS_RECALL
