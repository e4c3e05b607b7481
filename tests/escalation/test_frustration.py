"""The frustration score: VADER plus support-specific cues, and the trained model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.frustration import (
    LEVELS,
    MAX_CUE_PENALTY,
    FrustrationModel,
    expected_score,
    is_shouting,
    load_examples,
    score,
    vader_compound,
)
from bot.sentiment import SentimentAnalyzer


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("this is the third time I'm asking about my order", "repeat_contact"),
        ("I already called twice about this", "repeat_contact"),
        ("I will never shop here again", "leave_threat"),
        ("I'm taking my business elsewhere", "leave_threat"),
        ("wtf is going on with my order", "profanity"),
        ("f*** this", "profanity"),
        ("WHERE IS MY ORDER", "shouting"),
        ("where is it!!!", "punctuation_run"),
        ("my tent is still not here", "still_not"),
        ("nobody answers the phone", "nobody"),
        ("this bot is useless", "useless"),
        ("oh great, another delay", "sarcasm"),
        ("honestly getting fed up with all this waiting", "weary"),
    ],
)
def test_each_cue_fires_and_lowers_the_score(text: str, cue: str) -> None:
    result = score(text)
    assert cue in result.cues
    assert result.score < result.vader or result.score == -1.0


@pytest.mark.parametrize(
    "text",
    ["how much is shipping to ohio", "thanks so much, that helped!", "LS-117342", "DHL", ""],
)
def test_calm_messages_fire_no_cue(text: str) -> None:
    result = score(text)
    assert result.cues == ()
    assert result.score == pytest.approx(vader_compound(text))


def test_sarcasm_drops_vaders_positive_reading() -> None:
    text = "oh great, another delay. just perfect."
    assert vader_compound(text) > 0.5
    assert score(text).score <= -0.5


def test_cue_penalty_is_capped_and_score_clipped() -> None:
    text = "WTF!!! THIRD TIME I'M ASKING, STILL NOT HERE, NOBODY HELPS, USELESS"
    result = score(text)
    assert len(result.cues) >= 5
    assert result.score >= -1.0
    assert result.score >= min(result.vader, 0) - MAX_CUE_PENALTY - 1e-9


def test_order_numbers_are_not_shouting() -> None:
    assert not is_shouting("my order is LS-117342 ok")
    assert is_shouting("MY ORDER NEVER CAME")


# The trained model, as the running assistant uses it (inside the Rasa model).
# Messages below were written for these tests, not taken from the training files.
CALM = "could you tell me when the Cascade 45 restocks"
ANNOYED = "ugh, the refund still hasn't shown up, bit of a let down"
FURIOUS = "THREE WEEKS and still no refund, you are a bunch of crooks, I'm calling my bank"
SARCASTIC = "oh marvellous, my order vanished again. really top notch work, guys"


@pytest.fixture(scope="module")
def parsed(trained_model: Path) -> dict[str, dict[str, Any]]:
    from rasa.core.agent import Agent

    async def run() -> dict[str, dict[str, Any]]:
        agent = Agent.load(str(trained_model))
        texts = (CALM, ANNOYED, FURIOUS, SARCASTIC, "hello")
        return {t: (await agent.parse_message(t))["sentiment"] for t in texts}

    return asyncio.run(run())


def test_model_orders_messages_by_frustration(parsed: dict[str, dict[str, Any]]) -> None:
    calm, annoyed, furious = (parsed[t]["score"] for t in (CALM, ANNOYED, FURIOUS))
    assert calm > -0.25
    assert furious <= -0.8
    assert calm > annoyed > furious
    assert parsed[FURIOUS]["level"] == "angry"


def test_model_hears_sarcasm_the_rules_miss(parsed: dict[str, dict[str, Any]]) -> None:
    sentiment = parsed[SARCASTIC]
    assert sentiment["rules"] > -0.25  # VADER hears the praise
    assert sentiment["score"] <= -0.25  # annoyed enough to be acknowledged


def test_parsed_sentiment_carries_the_rule_score_and_cues(
    parsed: dict[str, dict[str, Any]],
) -> None:
    furious = parsed[FURIOUS]
    assert furious["rules"] == pytest.approx(score(FURIOUS).score, abs=1e-4)
    assert furious["cues"] == list(score(FURIOUS).cues)
    assert parsed["hello"]["level"] in LEVELS


# The model class on its own, trained on the shipped messages.


@pytest.fixture(scope="module")
def model() -> FrustrationModel:
    texts, levels = zip(*load_examples(), strict=True)
    return FrustrationModel.train(texts, levels)


def test_model_probabilities_cover_every_level(model: FrustrationModel) -> None:
    [levels] = model.probabilities(["hello"])
    assert set(levels) == set(LEVELS)
    assert sum(levels.values()) == pytest.approx(1.0)
    assert model.scores(["hello"])[0] == pytest.approx(expected_score(levels))


def test_model_survives_save_and_load(model: FrustrationModel, tmp_path: Path) -> None:
    texts = ["where is my tent", "this is a joke, nobody answers"]
    model.save(tmp_path / "model.joblib")
    assert FrustrationModel.load(tmp_path / "model.joblib").scores(texts) == model.scores(texts)


def test_unknown_level_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text('messages:\n  furious:\n    - "grr"\n')
    with pytest.raises(ValueError, match="unknown level 'furious'"):
        load_examples(tmp_path)


def test_changed_training_files_change_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text('messages:\n  mild:\n    - "meh"\n')
    config = {"training_files": str(tmp_path)}
    before = SentimentAnalyzer.fingerprint_addon(config)
    (tmp_path / "a.yml").write_text('messages:\n  angry:\n    - "meh"\n')
    assert SentimentAnalyzer.fingerprint_addon(config) != before
