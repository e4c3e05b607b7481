"""A Rasa dense featurizer: every message's sentence vector from ``bot.encoder``.

The vector (all-MiniLM-L6-v2, 384 numbers of unit length) is added as the message's
sentence-level dense feature, which Rasa's intent classifiers and the ResponseSelector
read beside the sparse word and character counts. Messages that mean the same are close
even when they share no words, which the counts cannot see.

``scale`` multiplies the vector: a unit vector's components are small beside the counts,
and the logistic regression's single regularisation strength treats every column alike,
so the scale sets how much say the meaning has against the words (chosen by
``make bench-nlu``, results/nlu.md).

Rasa caches a featurizer's output by its inputs' fingerprint; the encoder's pinned
digests are part of this component's, so other weights mean new features.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoder

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the encoder's sentence vector of ``text`` as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "scale": 3.0}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._scale = float(config["scale"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEncoderFeaturizer: scale must be positive.")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return ",".join(f"{name}={digest}" for name, digest in sorted(encoder.DIGESTS.items()))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurise the messages that have text, in batches."""
        texts = [m for m in messages if m.get(TEXT)]
        if not texts:
            return messages
        vectors = encoder.shared().encode([m.get(TEXT) for m in texts]) * self._scale
        for message, vector in zip(texts, vectors, strict=True):
            sentence = np.asarray(vector, dtype=np.float32)[None, :]
            self.add_features_to_message(None, sentence, TEXT, message)
        return messages
