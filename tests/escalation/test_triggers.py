"""Each escalation trigger at, just below and just above its threshold."""

from __future__ import annotations

import pytest

from bot.escalation import (
    EXPLICIT,
    LOW_CONFIDENCE,
    NEGATIVE_TREND,
    SENSITIVE,
    STRONG_NEGATIVE,
    Settings,
    Turn,
    correct_typos,
    decide,
    should_acknowledge,
    turns_from_events,
    understood,
)

EPS = 0.01


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.load()


def turn(sentiment: float = 0.0, intent: str = "faq", text: str = "hello", missed: bool = False):
    return Turn(text=text, intent=intent, confidence=0.9, sentiment=sentiment, missed=missed)


def trigger(turns: list[Turn], settings: Settings) -> str | None:
    decision = decide(turns, settings)
    return decision.trigger if decision else None


@pytest.mark.parametrize(
    ("offset", "fires"), [(-EPS, True), (0.0, True), (EPS, False)], ids=["above", "at", "below"]
)
def test_strong_negative(settings: Settings, offset: float, fires: bool) -> None:
    score = settings.strong_negative + offset  # "above" the threshold means angrier
    expected = STRONG_NEGATIVE if fires else None
    assert trigger([turn(score)], settings) == expected


@pytest.mark.parametrize(
    ("offset", "fires"), [(-EPS, True), (0.0, True), (EPS, False)], ids=["above", "at", "below"]
)
def test_negative_trend(settings: Settings, offset: float, fires: bool) -> None:
    mean = settings.trend_threshold + offset
    # One turn near neutral, so only the mean can fire; none strongly negative on its own.
    gap = settings.trend_each - mean + 0.05
    spread = [mean - gap, mean + gap] + [mean] * (settings.trend_window - 2)
    assert max(spread) > settings.trend_each and min(spread) > settings.strong_negative
    decision = decide([turn(s) for s in spread], settings)
    if fires:
        assert decision is not None and decision.trigger == NEGATIVE_TREND
        assert decision.value == pytest.approx(mean, abs=1e-4)
        assert decision.turn == settings.trend_window
    else:
        assert decision is None


@pytest.mark.parametrize(
    ("offset", "fires"), [(-EPS, True), (0.0, True), (EPS, False)], ids=["above", "at", "below"]
)
def test_persistently_negative_turns(settings: Settings, offset: float, fires: bool) -> None:
    # Each turn mildly negative, the mean above trend_threshold: only "each" can fire.
    each = settings.trend_each + offset
    assert each > settings.trend_threshold
    turns = [turn(0.0), turn(each - 0.05), turn(each)] + [turn(each)] * (settings.trend_window - 2)
    decision = decide(turns, settings)
    if fires:
        assert decision is not None and decision.trigger == NEGATIVE_TREND
        assert decision.threshold == f"each <= {settings.trend_each}"
        assert decision.turn == len(turns)
    else:
        assert decision is None


def test_negative_trend_needs_a_full_window(settings: Settings) -> None:
    turns = [turn(settings.trend_threshold - 0.1) for _ in range(settings.trend_window - 1)]
    assert trigger(turns, settings) is None


@pytest.mark.parametrize(
    ("misses", "expected"),
    [(1, None), (2, LOW_CONFIDENCE), (3, LOW_CONFIDENCE)],
    ids=["below", "at", "above"],
)
def test_low_confidence_counts_consecutive_misses(settings, misses, expected) -> None:
    assert settings.max_misses == 2
    turns = [turn()] + [turn(intent="nlu_fallback", missed=True) for _ in range(misses)]
    assert trigger(turns, settings) == expected


def test_an_understood_turn_resets_the_misses(settings: Settings) -> None:
    missed = turn(intent="nlu_fallback", missed=True)
    assert trigger([missed, turn(), missed], settings) is None


@pytest.mark.parametrize(
    "text",
    ["can I talk to a real person", "i need a representative", "let me speak to someone"],
)
def test_explicit_request_by_phrase_even_if_nlu_missed(settings: Settings, text: str) -> None:
    assert trigger([turn(text=text, intent="faq")], settings) == EXPLICIT


@pytest.mark.parametrize(
    "text", ["can i tlak to a humna pls", "agnet please", "connect me to a represntative"]
)
def test_explicit_request_survives_one_typo_per_word(settings: Settings, text: str) -> None:
    assert trigger([turn(text=text, intent="affirm")], settings) == EXPLICIT


@pytest.mark.parametrize(
    ("word", "typo", "same"),
    [
        ("agent", "agnet", True),  # neighbours swapped
        ("human", "huma", True),  # letter dropped
        ("person", "perrson", True),  # letter added
        ("talk", "tolk", True),  # letter replaced
        ("talk", "tale", True),
        ("agent", "agency", False),  # two edits
        ("human", "humid", False),
        ("person", "personal", False),
    ],
)
def test_one_typo_apart(word: str, typo: str, same: bool) -> None:
    assert (correct_typos(typo, [word]) == word) is same


def test_short_words_are_not_corrected() -> None:
    assert correct_typos("can a rap talk", ["rep"]) == "can a rap talk"


def test_explicit_request_by_intent(settings: Settings) -> None:
    assert trigger([turn(intent="request_human", text="hmm")], settings) == EXPLICIT


@pytest.mark.parametrize("intent", ["faq/close_account", "legal_threat", "complain_about_agent"])
def test_sensitive_topics_always_escalate(settings: Settings, intent: str) -> None:
    decision = decide([turn(0.5, intent=intent)], settings)
    assert decision is not None and (decision.trigger, decision.value) == (SENSITIVE, intent)


def faq_parse(intent_confidence: float, answer_confidence: float) -> dict:
    answer = {"intent_response_key": "faq/close_account", "confidence": answer_confidence}
    return {
        "intent": {"name": "faq", "confidence": intent_confidence},
        "response_selector": {"faq": {"response": answer}},
    }


def test_a_faq_answer_is_as_sure_as_both_steps_that_chose_it() -> None:
    assert understood(faq_parse(0.9, 0.8)) == ("faq/close_account", pytest.approx(0.72))
    plain = {"intent": {"name": "legal_threat", "confidence": 0.75}}
    assert understood(plain) == ("legal_threat", 0.75)
    assert understood({}) == ("nlu_fallback", 0.0)


def test_an_unsure_answer_is_not_a_sensitive_topic(settings: Settings) -> None:
    # "sweet, signing up now. bye!" once came out as faq 0.83, close_account 0.25.
    name, confidence = understood(faq_parse(0.83, 0.25))
    unsure = Turn(text="signing up, bye", intent=name, confidence=confidence, sentiment=0.3)
    assert trigger([unsure], settings) is None
    name, confidence = understood(faq_parse(0.95, 0.9))
    sure = Turn(text="close my account", intent=name, confidence=confidence, sentiment=0.0)
    assert trigger([sure], settings) == SENSITIVE


def test_first_trigger_in_order_wins(settings: Settings) -> None:
    furious_request = turn(-0.9, intent="request_human")
    assert trigger([furious_request], settings) == EXPLICIT
    furious_legal = turn(-0.9, intent="legal_threat")
    assert trigger([furious_legal], settings) == SENSITIVE


def test_decision_is_deterministic(settings: Settings) -> None:
    turns = [turn(-0.3), turn(-0.4), turn(-0.5)]
    assert decide(turns, settings) == decide(list(turns), settings)


def test_acknowledgement_band(settings: Settings) -> None:
    assert not should_acknowledge(settings.acknowledge_below + EPS, settings)  # calm
    assert should_acknowledge(settings.acknowledge_below, settings)
    assert should_acknowledge(settings.strong_negative + EPS, settings)
    assert not should_acknowledge(settings.strong_negative, settings)  # escalates instead


def test_turns_from_tracker_events_mark_misses_and_reset_on_resume() -> None:
    def user(text: str, intent: str, score: float) -> dict:
        parse = {"intent": {"name": intent, "confidence": 0.4}, "sentiment": {"score": score}}
        return {"event": "user", "text": text, "parse_data": parse}

    events = [
        {"event": "session_started"},
        user("old", "greet", 0.0),
        {"event": "resume"},
        user("blorp", "nlu_fallback", -0.1),
        {"event": "action", "name": "action_search_articles"},
        {"event": "slot", "name": "article_found", "value": False},
        user("how do i wash my jacket", "search_help", 0.0),
        {"event": "slot", "name": "article_found", "value": True},
    ]
    turns = turns_from_events(events)
    assert [(t.text, t.missed) for t in turns] == [
        ("blorp", True),
        ("how do i wash my jacket", False),
    ]
    assert turns[0].sentiment == -0.1


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown escalation settings: strong_negativ"):
        Settings.from_dict({"strong_negativ": -0.5})
