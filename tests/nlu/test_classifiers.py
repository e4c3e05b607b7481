"""The FAQ-aware fallback: an unsure FAQ answer becomes nlu_fallback."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.classifiers import FaqFallbackClassifier

CONFIG = {**FaqFallbackClassifier.get_default_config(), "threshold": 0.5, "faq_threshold": 0.2}


def parsed(intent: str, confidence: float, answer_confidence: float | None = None) -> Message:
    data = {
        "text": "how much is shipping",
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    if answer_confidence is not None:
        answer = {"intent_response_key": "faq/shipping_cost", "confidence": answer_confidence}
        data["response_selector"] = {"faq": {"response": answer}}
    return Message(data=data)


def intent_after(message: Message) -> str:
    [result] = FaqFallbackClassifier(CONFIG).process([message])
    return result.get("intent")["name"]


@pytest.mark.parametrize(
    ("answer_confidence", "expected"),
    [(0.19, "nlu_fallback"), (0.2, "faq"), (0.21, "faq")],
    ids=["below", "at", "above"],
)
def test_an_unsure_faq_answer_falls_back(answer_confidence: float, expected: str) -> None:
    assert intent_after(parsed("faq", 0.95, answer_confidence)) == expected


def test_a_faq_without_an_answer_falls_back() -> None:
    assert intent_after(parsed("faq", 0.95)) == "nlu_fallback"


def test_other_intents_only_need_the_intent_confidence() -> None:
    assert intent_after(parsed("check_order_status", 0.9)) == "check_order_status"
    assert intent_after(parsed("check_order_status", 0.4)) == "nlu_fallback"


def test_the_fallback_keeps_the_ranking_below_it() -> None:
    [result] = FaqFallbackClassifier(CONFIG).process([parsed("faq", 0.95, 0.1)])
    ranking = [entry["name"] for entry in result.get("intent_ranking")]
    assert ranking == ["nlu_fallback", "faq"]
