"""Replay labelled conversations through the trained NLU and the escalation decision.

Shared by the gate in ``make test`` (tests/escalation/test_gate.py) and by
``make bench-escalation``. Each customer message is parsed by the real model (intent,
confidence, sentiment); a message the NLU routes to the help-article search counts as a
miss when the search finds nothing, exactly as in the running assistant. The first turn at
which :func:`bot.escalation.decide` fires is the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.escalation import TRIGGERS, Settings, Turn, decide, understood

CONVERSATIONS = Path("tests/escalation/conversations.yml")  # thresholds were tuned on these
HOLDOUT = Path("tests/escalation/holdout.yml")  # never used to tune anything
# Written blind on 2026-12-02, before any tuning on it starts; never used to tune anything.
FRESH = Path("tests/escalation/fresh.yml")
# Every labelled set; `make test` (tests/escalation/test_gate.py) holds the must-pass
# conversations of CONVERSATIONS to be right, and the F1 of all three sets pooled (242
# conversations) to at least MIN_POOLED_F1. The shipped model scores 0.904 on the tuning
# set alone and 0.732 pooled. The tuning set alone was the floor (0.90) until the studio
# measured it: retraining the same data with another seed moves it by up to 0.03
# (results/gate-noise.md), and adding five FAQ phrases moved it 0.05 while the held-out
# sets moved the other way (fresh -0.01, holdout +0.05): a floor on the set the thresholds
# were tuned on fails honest changes. Pooled, those phrases cost 0.012.
ALL_SETS = (CONVERSATIONS, HOLDOUT, FRESH)
MIN_POOLED_F1 = 0.70


@dataclass(frozen=True)
class Conversation:
    """A scripted conversation and the escalation a person would expect."""

    id: str
    kind: str
    must_pass: bool
    texts: tuple[str, ...]
    expected_turn: int | None
    expected_trigger: str | None


@dataclass(frozen=True)
class Outcome:
    """Where the decision fired for one conversation (None: it never did)."""

    conversation: Conversation
    turn: int | None
    trigger: str | None

    @property
    def correct(self) -> bool:
        c = self.conversation
        return (self.turn, self.trigger) == (c.expected_turn, c.expected_trigger)


def load_conversations(path: Path = CONVERSATIONS) -> list[Conversation]:
    """Read the labelled conversations file."""
    items = yaml.safe_load(path.read_text())["conversations"]
    return [
        Conversation(
            id=item["id"],
            kind=item.get("kind", ""),
            must_pass=bool(item.get("must_pass")),
            texts=tuple(item["turns"]),
            expected_turn=item["expect"].get("escalates_at"),
            expected_trigger=item["expect"].get("trigger"),
        )
        for item in items
    ]


def parse_turns(
    model_path: Path, conversations: Sequence[Conversation], settings: Settings
) -> list[list[Turn]]:
    """Parse every message with the model and mark help-search misses."""
    import asyncio

    from rasa.core.agent import Agent

    from actions.knowledge import MIN_SCORE, MIN_SCORE_ASKED, get_index

    index = get_index()

    def to_turn(text: str, parsed: dict[str, Any]) -> Turn:
        name, confidence = understood(parsed)
        missed = name in settings.miss_intents
        if name in ("nlu_fallback", "search_help") and text.strip():
            floor = MIN_SCORE_ASKED if name == "search_help" else MIN_SCORE
            missed = index.search(text, floor) is None
        score = float((parsed.get("sentiment") or {}).get("score", 0.0))
        return Turn(text, name, confidence, score, missed)

    async def run() -> list[list[Turn]]:
        agent = Agent.load(str(model_path))
        parsed: list[list[Turn]] = []
        for conversation in conversations:
            parsed.append([to_turn(t, await agent.parse_message(t)) for t in conversation.texts])
        return parsed

    return asyncio.run(run())


def replay(
    conversations: Sequence[Conversation], turns: Sequence[list[Turn]], settings: Settings
) -> list[Outcome]:
    """The first turn at which the decision fires, for every conversation."""
    outcomes = []
    for conversation, conv_turns in zip(conversations, turns, strict=True):
        fired = next(
            (d for k in range(1, len(conv_turns) + 1) if (d := decide(conv_turns[:k], settings))),
            None,
        )
        outcomes.append(
            Outcome(conversation, fired.turn if fired else None, fired.trigger if fired else None)
        )
    return outcomes


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of the escalations (turn and trigger must both match)."""

    precision: float
    recall: float
    f1: float
    support: int


def _prf(tp: int, predicted: int, actual: int) -> Scores:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, actual)


def _matches(trigger: str | None, name: str) -> bool:
    return trigger is not None and name in ("overall", trigger)


def scores(outcomes: Sequence[Outcome]) -> dict[str, Scores]:
    """Per trigger and ``overall``."""
    result = {}
    for name in (*TRIGGERS, "overall"):
        tp = sum(o.correct and _matches(o.trigger, name) for o in outcomes)
        predicted = sum(_matches(o.trigger, name) for o in outcomes)
        actual = sum(_matches(o.conversation.expected_trigger, name) for o in outcomes)
        result[name] = _prf(tp, predicted, actual)
    return result
