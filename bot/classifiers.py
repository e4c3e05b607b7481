"""Custom Rasa NLU components."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


def _has_features(message: Message) -> bool:
    return any(
        features is not None
        for features in (
            message.get_sparse_features(TEXT)[1],
            message.get_dense_features(TEXT)[1],
        )
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafeLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's LogisticRegressionClassifier, which crashes on a message without features.

    An empty or blank message has no tokens and so no features, and scikit-learn refuses a
    zero-width matrix. Such messages get no intent (confidence 0), which the
    FallbackClassifier then turns into ``nlu_fallback``, so the customer gets a reply.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        known = [m for m in messages if _has_features(m)]
        if known:
            super().process(known)
        for message in messages:
            if not _has_features(message):
                empty: dict[str, Any] = {"name": None, "confidence": 0.0}
                message.set(INTENT, empty, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
