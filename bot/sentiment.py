"""A Rasa NLU component that scores every user message for frustration.

The score (see :mod:`bot.frustration`) is stored on the message as ``sentiment`` and so
lands in the tracker's ``user`` event, next to the intent confidence, for the escalation
policy, the transcript and the agents.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.frustration import score

SENTIMENT = "sentiment"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentimentAnalyzer(GraphComponent):
    """Adds ``{"score", "vader", "cues"}`` under ``sentiment`` to every parsed message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnalyzer:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            message.set(SENTIMENT, score(text).as_dict(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training examples need no score
