"""Custom Rasa NLU components."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqFallbackClassifier(FallbackClassifier):
    """Rasa's FallbackClassifier, which also falls back on an unsure FAQ answer.

    The intent classifier is confident that almost any question is a FAQ, because the
    FAQs together are by far the largest intent; which answer fits is the response
    selector's call. When the selector's confidence in its answer is below
    ``faq_threshold``, the message becomes ``nlu_fallback`` like any other unsure one,
    and the assistant searches the help articles instead of giving a wrong answer.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **FallbackClassifier.get_default_config(),
            "retrieval_intent": "faq",
            "faq_threshold": 0.0,
        }

    def _should_fallback(self, message: Message) -> bool:
        return super()._should_fallback(message) or self._unsure_faq_answer(message)

    def _unsure_faq_answer(self, message: Message) -> bool:
        retrieval_intent = self.component_config["retrieval_intent"]
        if (message.get(INTENT) or {}).get("name") != retrieval_intent:
            return False
        selectors = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
        answer = selectors.get(retrieval_intent, {}).get("response", {})
        return float(answer.get("confidence") or 0.0) < self.component_config["faq_threshold"]
