"""Custom Rasa NLU components."""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data import util
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def _has_features(message: Message) -> bool:
    return any(f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE for f in message.features)


def sentence_row(message: Message) -> Any:
    """The message's sentence features as one sparse row: every sparse featurizer's, then
    every dense one's, in pipeline order (the columns Rasa's ``_create_X`` builds).

    Rasa's ``Message.get_sparse_features`` also deep-copies and joins the per-token
    features, which the logistic regressions never read: 30 sparse joins a message,
    about a third of parsing time (py-spy and cProfile, README "NLU figures").
    """
    from scipy.sparse import csr_matrix, hstack

    sentence = [
        f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE
    ]
    parts = [f.features for f in sentence if f.is_sparse()]
    parts += [csr_matrix(f.features) for f in sentence if f.is_dense()]
    return hstack(parts, format="csr") if parts else csr_matrix((1, 0))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafeLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's LogisticRegressionClassifier, which crashes on a message without features.

    An empty or blank message has no tokens and so no features, and scikit-learn refuses a
    zero-width matrix. Such messages get no intent (confidence 0), which the
    FallbackClassifier then turns into ``nlu_fallback``, so the customer gets a reply.
    Its feature rows come from :func:`sentence_row`.
    """

    def _create_X(self, messages: list[Message]) -> Any:
        from scipy.sparse import vstack

        return vstack([sentence_row(m) for m in messages], format="csr")

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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LogisticResponseSelector(SafeLogisticRegressionClassifier):
    """A response selector: logistic regression over the features the intent classifier sees.

    It picks the answer of a retrieval intent (``faq/shipping_cost`` within ``faq``) and
    writes it where Rasa's ResponseSelector does, so ``utter_faq`` and the rules work
    unchanged. Rasa's own selector trains a transformer for 100 epochs: with the sentence
    vector among its features that took 4 of the 5 minutes of `make train`. This one
    trains in seconds and gets one more of the 246 held-out FAQ questions wrong (README
    "NLU figures"); it is deterministic, so retraining the same data changes nothing.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = LogisticRegressionClassifier.get_default_config()
        return {**defaults, "retrieval_intent": "faq", "C": 1.0}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.C = self.config["C"]
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.retrieval_intents: list[str] = []

    def _create_training_matrix(self, training_data: TrainingData) -> tuple[Any, list[str]]:
        wanted = self.config["retrieval_intent"]
        examples = [
            e
            for e in training_data.intent_examples
            if e.get(INTENT) == wanted and e.get(INTENT_RESPONSE_KEY) and e.get(TEXT)
        ]
        return self._create_X(examples), [e.get(INTENT_RESPONSE_KEY) for e in examples]

    def train(self, training_data: TrainingData) -> Resource:
        self.responses = training_data.responses
        self.retrieval_intents = sorted(training_data.retrieval_intents)
        return super().train(training_data)

    def process(self, messages: list[Message]) -> list[Message]:
        known = [m for m in messages if _has_features(m)] if hasattr(self.clf, "classes_") else []
        if known:
            probabilities = self.clf.predict_proba(self._create_X(known))
            for message, row in zip(known, probabilities, strict=True):
                ranked = sorted(zip(self.clf.classes_, row, strict=True), key=lambda p: -p[1])
                self._set_answer(message, ranked[: self.config["ranking_length"]])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # nothing after it in training reads the answers

    def _set_answer(self, message: Message, ranked: list[tuple[str, float]]) -> None:
        key, confidence = ranked[0]
        template = util.intent_response_key_to_template_key(key)
        prediction = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(template, [{TEXT: key}]),
                PREDICTED_CONFIDENCE_KEY: float(confidence),
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: template,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {PREDICTED_CONFIDENCE_KEY: float(c), INTENT_RESPONSE_KEY: k} for k, c in ranked
            ],
        }
        selectors = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
        selectors[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self.retrieval_intents
        selectors[self.config["retrieval_intent"]] = prediction
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selectors, add_to_output=True)

    def persist(self) -> None:
        super().persist()
        with self._model_storage.write_to(self._resource) as model_dir:
            answers = {"responses": self.responses, "retrieval_intents": self.retrieval_intents}
            (model_dir / "answers.json").write_text(json.dumps(answers))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LogisticResponseSelector:
        selector = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as model_dir:
                answers = json.loads((model_dir / "answers.json").read_text())
        except (ValueError, OSError):  # never trained: no FAQ examples
            return selector
        selector.responses = answers["responses"]
        selector.retrieval_intents = answers["retrieval_intents"]
        return selector


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
