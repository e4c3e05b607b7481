"""The frustration score: VADER plus support-specific cues."""

from __future__ import annotations

import pytest

from bot.frustration import MAX_CUE_PENALTY, is_shouting, score, vader_compound


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
