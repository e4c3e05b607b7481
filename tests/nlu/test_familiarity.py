"""Familiarity: how like its guess's training phrases a message is, kept with the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.familiarity import FAMILIARITY, FamiliarityScorer, familiarity

CONFIG = FamiliarityScorer.get_default_config()


def with_vector(data: dict, direction: list[float]) -> Message:
    """A message whose encoder sentence vector points along ``direction``."""
    message = Message(data=data)
    vector = np.array([direction], dtype=np.float32)
    message.add_features(Features(vector, "sentence", "text", "SentenceEncoderFeaturizer"))
    return message


def phrase(intent: str, direction: list[float], answer: str | None = None) -> Message:
    data = {"text": intent, "intent": intent}
    if answer:
        data["intent_response_key"] = answer
    return with_vector(data, direction)


def guessed(direction: list[float], *ranking: str, answer: str | None = None) -> Message:
    data = {
        "text": "new",
        "intent_ranking": [{"name": name, "confidence": 0.5} for name in ranking],
    }
    if answer:
        data["response_selector"] = {"faq": {"response": {"intent_response_key": answer}}}
    return with_vector(data, direction)


@pytest.fixture
def scorer(tmp_path: Path) -> FamiliarityScorer:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("familiarity")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = FamiliarityScorer.create(CONFIG, storage, resource, context)
    training = TrainingData(
        [
            phrase("greet", [1, 0, 0]),
            phrase("greet", [0.96, 0.28, 0]),
            phrase("faq", [0, 1, 0], answer="faq/shipping_cost"),
            phrase("faq", [0, 0, 1], answer="faq/return_window"),
            Message(data={"text": "no label"}),
        ]
    )
    trained.train(training)
    return FamiliarityScorer.load(CONFIG, storage, resource, context)


def test_the_mean_of_the_closest_phrases() -> None:
    assert familiarity(np.array([0.1, 0.9, 0.5, 0.7]), 3) == pytest.approx(0.7)
    assert familiarity(np.array([0.4]), 3) == pytest.approx(0.4)
    assert familiarity(np.array([]), 3) == 0.0


def test_each_guess_is_scored_against_its_own_phrases(scorer: FamiliarityScorer) -> None:
    [message] = scorer.process([guessed([0.6, 0.8, 0], "faq", "greet", answer="faq/shipping_cost")])
    scores = message.get(FAMILIARITY)
    assert scores["faq/shipping_cost"] == pytest.approx(0.8)
    assert scores["greet"] == pytest.approx((0.6 + 0.6 * 0.96 + 0.8 * 0.28) / 2, abs=1e-4)
    assert "faq/return_window" not in scores  # not among the guesses


def test_a_sure_guess_far_from_its_phrases_scores_low(scorer: FamiliarityScorer) -> None:
    [message] = scorer.process([guessed([0, 0, 1], "greet")])
    assert message.get(FAMILIARITY) == {"greet": pytest.approx(0.0)}


def test_without_the_encoder_features_nothing_is_scored(scorer: FamiliarityScorer) -> None:
    bare = Message(data={"text": "hi", "intent_ranking": [{"name": "greet", "confidence": 1}]})
    [message] = scorer.process([bare])
    assert message.get(FAMILIARITY) is None
