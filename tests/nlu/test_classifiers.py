"""The FAQ-aware fallback, and the feature rows the logistic regressions read."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import vstack

from bot.classifiers import FaqFallbackClassifier, sentence_row

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


def featurised(text: str) -> Message:
    """A message with sequence and sentence features from two sparse and one dense source."""
    from rasa.shared.nlu.training_data.features import Features
    from scipy.sparse import coo_matrix

    rng = np.random.default_rng(7)
    message = Message(data={"text": text})
    tokens = len(text.split())
    for origin, width in (("words", 5), ("chars", 3)):
        for kind, rows in (("sequence", tokens), ("sentence", 1)):
            values = coo_matrix(rng.integers(0, 3, size=(rows, width)).astype(float))
            message.add_features(Features(values, kind, "text", origin))
    for kind, rows in (("sequence", tokens), ("sentence", 1)):
        message.add_features(Features(rng.normal(size=(rows, 4)), kind, "text", "vector"))
    return message


def test_sentence_rows_are_the_columns_rasa_builds() -> None:
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    messages = [featurised("where is my order"), featurised("do the boots run small")]
    ours = vstack([sentence_row(m) for m in messages]).toarray()
    rasas = LogisticRegressionClassifier._create_X(None, messages).toarray()
    assert ours.shape == (2, 12)
    np.testing.assert_array_equal(ours, rasas)


def test_a_message_without_features_has_an_empty_row() -> None:
    assert sentence_row(Message(data={"text": ""})).shape == (1, 0)
