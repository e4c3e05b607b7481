"""The dense featurizer: the encoder's vector, scaled, as each message's sentence feature."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoder
from bot.sentence_featurizer import SentenceEncoderFeaturizer

pytestmark = pytest.mark.slow  # loads the encoder


def featurizer(scale: float = 3.0) -> SentenceEncoderFeaturizer:
    config = {**SentenceEncoderFeaturizer.get_default_config(), "scale": scale}
    return SentenceEncoderFeaturizer(config, "sentence_encoder")


def sentence_vector(message: Message) -> np.ndarray:
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None  # the encoder gives one vector per message, not per token
    assert sentence is not None
    return np.asarray(sentence.features)


def test_each_message_gets_its_scaled_sentence_vector() -> None:
    texts = ["where is my parcel", "has my order shipped yet", "do you sell tents"]
    messages = featurizer(scale=3.0).process([Message(data={TEXT: t}) for t in texts])
    vectors = np.vstack([sentence_vector(m) for m in messages])
    assert vectors.shape == (3, encoder.DIMENSIONS)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([3.0, 3.0, 3.0], abs=1e-4)
    similarity = vectors @ vectors.T / 9.0
    # Two ways of asking where an order is are closer than either is to a product question.
    assert similarity[0, 1] > max(similarity[0, 2], similarity[1, 2])


def test_training_data_is_featurised_and_messages_without_text_are_left_alone() -> None:
    examples = [Message(data={TEXT: "hello there", "intent": "greet"}), Message(data={})]
    featurizer().process_training_data(TrainingData(examples))
    assert sentence_vector(examples[0]).shape == (1, encoder.DIMENSIONS)
    assert examples[1].get_dense_features(TEXT) == (None, None)


def test_the_fingerprint_carries_the_pinned_weights() -> None:
    addon = SentenceEncoderFeaturizer.fingerprint_addon({})
    assert addon is not None
    assert all(digest in addon for digest in encoder.DIGESTS.values())


def test_a_scale_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="scale must be positive"):
        featurizer(scale=0.0)
