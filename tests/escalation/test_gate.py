"""The escalation gate: labelled conversations replayed through the trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.escalation import TRIGGERS, Settings
from tools.escalation_eval import (
    ALL_SETS,
    CONVERSATIONS,
    HOLDOUT,
    MIN_POOLED_F1,
    Outcome,
    load_conversations,
    parse_turns,
    replay,
    scores,
)


@pytest.fixture(scope="module")
def outcomes(trained_model: Path) -> list[Outcome]:
    conversations, settings = load_conversations(), Settings.load()
    return replay(conversations, parse_turns(trained_model, conversations, settings), settings)


def describe(outcomes: list[Outcome]) -> str:
    return "\n".join(
        f"  {o.conversation.id}: expected {o.conversation.expected_trigger}"
        f"@{o.conversation.expected_turn}, got {o.trigger}@{o.turn}"
        for o in outcomes
        if not o.correct
    )


@pytest.mark.parametrize(("path", "size"), [(CONVERSATIONS, 80), (HOLDOUT, 50)])
def test_conversation_sets_are_big_and_labelled_with_known_triggers(path: Path, size: int) -> None:
    conversations = load_conversations(path)
    assert len(conversations) >= size
    assert len({c.id for c in conversations}) == len(conversations)
    assert {c.expected_trigger for c in conversations} - {None} <= set(TRIGGERS)
    assert all(c.expected_turn is None or c.expected_turn == len(c.texts) for c in conversations)
    assert any(c.must_pass for c in conversations)


@pytest.mark.slow
def test_must_pass_conversations(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.conversation.must_pass and not o.correct]
    assert not failed, describe(failed)


@pytest.fixture(scope="module")
def pooled(trained_model: Path) -> list[Outcome]:
    """Every labelled set, tuning, hold-out and the blind fresh one, replayed together."""
    conversations = [c for path in ALL_SETS for c in load_conversations(path)]
    settings = Settings.load()
    return replay(conversations, parse_turns(trained_model, conversations, settings), settings)


@pytest.mark.slow
def test_pooled_f1(pooled: list[Outcome]) -> None:
    overall = scores(pooled)["overall"]
    assert len(pooled) >= 240
    assert overall.f1 >= MIN_POOLED_F1, f"F1 {overall.f1:.3f} over {len(pooled)} conversations"
