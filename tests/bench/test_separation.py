"""The separation figures of `make bench-escalation`: which messages count, and the cut."""

from __future__ import annotations

import math

from bench.escalation import labelled_messages, recall_at_false_alarms
from bot.escalation import Turn
from tools.escalation_eval import Conversation


def test_recall_counts_frustrated_messages_past_the_ten_percent_cut() -> None:
    calm = [float(i) for i in range(10)]  # the cut that flags one in ten is 8
    gold = [0] * 10 + [1] * 4
    assert recall_at_false_alarms(gold, [*calm, 9.5, 8.5, 8.0, 1.0]) == 0.5


def test_recall_without_calm_messages_is_not_a_number() -> None:
    assert math.isnan(recall_at_false_alarms([1, 1], [0.5, 0.7]))


def turn(text: str, sentiment: float) -> Turn:
    return Turn(text, "greet", 1.0, sentiment)


def conversation(trigger: str | None, at: int | None, count: int) -> Conversation:
    texts = tuple(f"message {i}" for i in range(count))
    return Conversation("c", "kind", False, texts, at, trigger)


def test_calm_conversations_give_every_message_and_angry_ones_their_turn() -> None:
    conversations = [
        conversation(None, None, 2),
        conversation("strong_negative", 2, 3),
        conversation("explicit_request", 1, 1),
    ]
    turns = [
        [turn("calm a", 0.1), turn("calm b", 0.0)],
        [turn("meh", -0.2), turn("furious", -0.9), turn("after", -0.5)],
        [turn("a person please", 0.0)],
    ]
    texts, gold, parsed = labelled_messages(conversations, turns)
    assert texts == ["calm a", "calm b", "furious"]
    assert gold == [0, 0, 1]
    assert parsed == [0.1, 0.0, -0.9]
