"""A Rasa NLU component that scores every user message for frustration.

The score (see :mod:`bot.frustration`) is stored on the message as ``sentiment`` and so
lands in the tracker's ``user`` event, next to the intent confidence, for the escalation
policy, the transcript and the agents.

Training fits :class:`bot.frustration.FrustrationModel` on ``data/frustration/*.yml`` and
on the NLU examples of ``neutral_intents`` (calm questions, labelled ``neutral``), except
those in ``traffic_files``: real customer messages the studio labelled for their intent,
which may well be upset. Rasa
reuses a trained component while its inputs are unchanged; the frustration files are not
Rasa training data, so their content is added to the component's fingerprint, with the
model's feature set and the encoder's digests.

The model reads each message's sentence vector from the features that
:class:`bot.sentence_featurizer.SentenceEncoderFeaturizer` put on it earlier in the
pipeline (scaled there, made unit length again here), so a message is encoded once; a
pipeline without that featurizer has the vector encoded here.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoder
from bot.frustration import FEATURES, FrustrationModel, expected_score, load_examples, score

SENTIMENT = "sentiment"
MODEL_FILE = "frustration.joblib"
logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentimentAnalyzer(GraphComponent):
    """Adds ``{"score", "level", "rules", "vader", "cues"}`` under ``sentiment``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "training_files": "data/frustration",
            # Intents whose NLU examples are calm: they teach the model what neutral is.
            # "faq" covers every FAQ retrieval intent.
            "neutral_intents": [],
            "neutral_weight": 1.0,
            # NLU files of real traffic (the studio's labels): never taken as calm.
            "traffic_files": ["data/nlu/traffic.yml"],
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: FrustrationModel | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnalyzer:
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        folder = Path({**cls.get_default_config(), **config}["training_files"])
        digest = hashlib.sha256(FEATURES.encode())
        for name, value in sorted(encoder.DIGESTS.items()):
            digest.update(f"{name}={value}".encode())
        for path in sorted(folder.glob("*.yml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        texts, levels, weights = training_set(self._config, training_data)
        self._model = FrustrationModel.train(texts, levels, weights)
        with self._storage.write_to(self._resource) as directory:
            self._model.save(directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentimentAnalyzer:
        with model_storage.read_from(resource) as directory:
            model = FrustrationModel.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [message.get(TEXT) or "" for message in messages]
        if self._model is None:
            raise RuntimeError("the frustration model is not trained")
        levels_of = self._model.probabilities(texts, sentence_vectors(messages))
        for message, text, levels in zip(messages, texts, levels_of, strict=True):
            rules = score(text)
            sentiment = {
                "score": round(expected_score(levels), 4),
                "level": max(levels, key=levels.__getitem__),
                "rules": round(rules.score, 4),
                "vader": round(rules.vader, 4),
                "cues": list(rules.cues),
            }
            message.set(SENTIMENT, sentiment, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training examples need no score


ENCODER_FEATURIZER = "SentenceEncoderFeaturizer"


def sentence_vectors(messages: list[Message]) -> np.ndarray | None:
    """The unit sentence vectors the encoder featurizer left on every message, or None."""
    rows = []
    for message in messages:
        found = [
            f.features
            for f in message.features
            if f.type == FEATURE_TYPE_SENTENCE
            and f.is_dense()
            and ENCODER_FEATURIZER in str(f.origin)
        ]
        if not found:
            return None
        vector = np.asarray(found[-1], dtype=np.float32).reshape(-1)
        rows.append(vector / max(float(np.linalg.norm(vector)), 1e-9))
    return np.stack(rows) if rows else None


def training_set(
    config: dict[str, Any], training_data: TrainingData
) -> tuple[list[str], list[str], list[float]]:
    """Texts, levels and sample weights: the labelled files plus the calm NLU examples."""
    config = {**SentimentAnalyzer.get_default_config(), **config}
    examples = load_examples(Path(config["training_files"]))
    if not examples:
        raise ValueError(f"no frustration examples in {config['training_files']}")
    wanted = set(config["neutral_intents"])
    traffic = traffic_texts(config["traffic_files"])
    neutral = [
        example.get(TEXT)
        for example in training_data.intent_examples
        if (example.get(INTENT) in wanted or example.get(INTENT_RESPONSE_KEY) in wanted)
        and example.get(TEXT) not in traffic
    ]
    logger.info(
        "Training the frustration model on %d labelled messages and %d calm NLU examples",
        len(examples),
        len(neutral),
    )
    texts = [text for text, _ in examples] + neutral
    levels = [level for _, level in examples] + ["neutral"] * len(neutral)
    weights = [1.0] * len(examples) + [float(config["neutral_weight"])] * len(neutral)
    return texts, levels, weights


def traffic_texts(files: list[str]) -> set[str]:
    """Every example text in the traffic files that exist, as Rasa reads them."""
    from rasa.shared.nlu.training_data.loading import load_data

    found: set[str] = set()
    for name in files:
        if Path(name).is_file():
            found |= {m.get(TEXT) for m in load_data(name).intent_examples}
    return found
