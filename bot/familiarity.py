"""How much a message is like the phrases its best guess was trained on.

A classifier always picks one of the intents it knows, and on a topic nobody taught it
(gear rental, say, in a shop that only sells) it is often sure of a wrong one: its
confidence cannot tell "like these phrases" from "less unlike these than the others".
This component keeps every training phrase's sentence vector (``bot.sentence_featurizer``)
and scores each guess by the mean cosine similarity of the message to the ``neighbours``
most similar phrases of that guess (an FAQ by its answer: ``faq/shipping_cost``). A low
score marks a message the studio's inbox should show (``handoff/misses.py``); the bot's
answer does not change.

It runs after the classifier and the response selector and before the fallback, so it
scores the guesses as they were; the parse data gets ``familiarity``: ``{name: score}``
for the top guesses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.sentiment import sentence_vectors

FAMILIARITY = "familiarity"
RETRIEVAL_INTENT = "faq"
VECTORS_FILE = "phrases.npz"
GUESSES = 3  # the contract's top guesses (contracts.understanding.TOP_GUESSES)


def familiarity(similarities: np.ndarray, neighbours: int) -> float:
    """The mean of the ``neighbours`` highest of one label's phrase similarities."""
    if similarities.size == 0:
        return 0.0
    top = np.partition(similarities, -min(neighbours, similarities.size))[-neighbours:]
    return float(np.mean(top))


def label(message: Message) -> str | None:
    """A training phrase's label: its intent, or an FAQ's answer key (``faq/…``)."""
    intent = message.get(INTENT)
    if intent == RETRIEVAL_INTENT:
        return message.get(INTENT_RESPONSE_KEY) or intent
    return str(intent) if intent else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FamiliarityScorer(GraphComponent):
    """Adds ``familiarity``: for each of the top guesses, how like its phrases the text is."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"neighbours": 3}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectors: np.ndarray | None = None,
        labels: np.ndarray | None = None,
    ) -> None:
        self._neighbours = int(config["neighbours"])
        self._storage, self._resource = model_storage, resource
        self._keep(
            np.zeros((0, 0), np.float32) if vectors is None else vectors,
            np.array([], dtype=str) if labels is None else labels,
        )

    def _keep(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        """The phrases' vectors and labels, and which rows each label has (parsed often)."""
        self._vectors, self._labels = vectors, labels
        self._rows = {str(name): np.flatnonzero(labels == name) for name in np.unique(labels)}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FamiliarityScorer:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if label(m)]
        vectors = sentence_vectors(examples)
        if vectors is None:
            raise ValueError(
                "FamiliarityScorer needs the SentenceEncoderFeaturizer before it in the pipeline"
            )
        self._keep(vectors.astype(np.float32), np.array([label(m) for m in examples], dtype=str))
        with self._storage.write_to(self._resource) as directory:
            np.savez_compressed(
                directory / VECTORS_FILE, vectors=self._vectors, labels=self._labels
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FamiliarityScorer:
        with model_storage.read_from(resource) as directory:
            saved = np.load(directory / VECTORS_FILE)
            return cls(config, model_storage, resource, saved["vectors"], saved["labels"])

    def process(self, messages: list[Message]) -> list[Message]:
        vectors = sentence_vectors(messages)
        if vectors is None or not self._labels.size:
            return messages
        similarities = vectors @ self._vectors.T
        for message, row in zip(messages, similarities, strict=True):
            scores = {
                name: round(familiarity(row[self._rows.get(name, [])], self._neighbours), 4)
                for name in _guesses(message)
            }
            message.set(FAMILIARITY, scores, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _guesses(message: Message) -> list[str]:
    """The top guesses by name, an FAQ by the answer the response selector chose."""
    selector = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(RETRIEVAL_INTENT) or {}
    faq_key = (selector.get("response") or {}).get(INTENT_RESPONSE_KEY)
    names = []
    for guess in message.get(INTENT_RANKING_KEY) or []:
        name = guess.get("name")
        if name == RETRIEVAL_INTENT and faq_key:
            name = faq_key
        if name and name not in names:
            names.append(name)
    return names[:GUESSES]
