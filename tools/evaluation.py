"""Measure the trained NLU model on held-out messages.

Used by the quality gate in ``make test`` (``tests/nlu/test_quality.py``) and by
``make bench-nlu``. Three figures:

- intent macro-F1 over the in-scope held-out set (FAQ sub-intents count as ``faq``);
- FAQ response-selection accuracy: the ResponseSelector's answer key for FAQ messages;
- out-of-scope fallback recall: the share of out-of-scope messages that end as
  ``nlu_fallback`` (confidence below the FallbackClassifier threshold) or ``out_of_scope``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELDOUT_IN_SCOPE = Path("tests/nlu/heldout.yml")
HELDOUT_OUT_OF_SCOPE = Path("tests/nlu/out_of_scope.yml")
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
# The floors `make test` enforces (tests/nlu/test_quality.py); the studio's gate reuses them.
MIN_INTENT_MACRO_F1 = 0.90
MIN_FAQ_ACCURACY = 0.90
MIN_OOS_RECALL = 0.80


@dataclass(frozen=True)
class Example:
    """A held-out message and what it should be understood as."""

    text: str
    intent: str  # e.g. "faq" or "check_order_status"
    response_key: str | None  # e.g. "faq/shipping_cost" for FAQ messages


@dataclass(frozen=True)
class Prediction:
    """What the model made of one message."""

    intent: str
    confidence: float
    response_key: str | None
    ranking: tuple[tuple[str, float], ...] = ()


@dataclass
class Report:
    """The three gate figures plus the details needed to explain them."""

    intent_macro_f1: float
    faq_accuracy: float
    oos_recall: float
    in_scope_count: int
    faq_count: int
    oos_count: int
    per_intent_f1: dict[str, float] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got


def load_examples(path: Path) -> list[Example]:
    """Read a Rasa NLU YAML file into examples (entity markup removed)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        Example(m.get("text"), m.get("intent"), m.get("intent_response_key"))
        for m in data.intent_examples
    ]


def _prediction(parsed: dict[str, Any]) -> Prediction:
    selector = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
    ranking = tuple((r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking", []))
    return Prediction(
        intent=parsed["intent"]["name"],
        confidence=float(parsed["intent"]["confidence"]),
        response_key=selector.get("intent_response_key"),
        ranking=ranking,
    )


def predict(model_path: Path, texts: Sequence[str]) -> list[Prediction]:
    """Load the model once and parse every text with it."""
    from rasa.core.agent import Agent

    async def run() -> list[Prediction]:
        agent = Agent.load(str(model_path))
        return [_prediction(await agent.parse_message(text)) for text in texts]

    return asyncio.run(run())


def with_threshold(prediction: Prediction, threshold: float) -> str:
    """The intent the model would report had the fallback threshold been ``threshold``."""
    top = next((r for r in prediction.ranking if r[0] != "nlu_fallback"), None)
    if top is None or top[1] < threshold:
        return "nlu_fallback"
    return top[0]


def score(
    in_scope: Sequence[Example],
    in_preds: Sequence[Prediction],
    oos_preds: Sequence[Prediction],
    threshold: float | None = None,
) -> Report:
    """Compute the gate figures; ``threshold`` re-applies a different fallback threshold."""
    from sklearn.metrics import f1_score

    def intent_of(p: Prediction) -> str:
        return p.intent if threshold is None else with_threshold(p, threshold)

    expected = [e.intent for e in in_scope]
    got = [intent_of(p) for p in in_preds]
    labels = sorted(set(expected))
    per_intent = f1_score(expected, got, labels=labels, average=None, zero_division=0)
    faq = [(e, p) for e, p in zip(in_scope, in_preds, strict=True) if e.response_key]
    faq_hits = sum(e.response_key == p.response_key for e, p in faq)
    oos_hits = sum(intent_of(p) in FALLBACK_INTENTS for p in oos_preds)
    errors = [(e.text, e.intent, g) for e, g in zip(in_scope, got, strict=True) if e.intent != g]
    errors += [
        (e.text, e.response_key or "", p.response_key or "")
        for e, p in faq
        if e.response_key != p.response_key
    ]
    return Report(
        intent_macro_f1=float(per_intent.mean()),
        faq_accuracy=faq_hits / len(faq) if faq else 0.0,
        oos_recall=oos_hits / len(oos_preds) if oos_preds else 0.0,
        in_scope_count=len(in_scope),
        faq_count=len(faq),
        oos_count=len(oos_preds),
        per_intent_f1=dict(zip(labels, map(float, per_intent), strict=True)),
        errors=errors,
    )


def evaluate(
    model_path: Path, in_scope_path: Path = HELDOUT_IN_SCOPE, oos_path: Path = HELDOUT_OUT_OF_SCOPE
) -> tuple[Report, list[Prediction], list[Prediction]]:
    """Score a trained model on the held-out files; also return the raw predictions."""
    in_scope = load_examples(in_scope_path)
    oos = load_examples(oos_path)
    predictions = predict(model_path, [e.text for e in in_scope] + [e.text for e in oos])
    in_preds, oos_preds = predictions[: len(in_scope)], predictions[len(in_scope) :]
    return score(in_scope, in_preds, oos_preds), in_preds, oos_preds


def format_errors(errors: Iterable[tuple[str, str, str]], limit: int = 40) -> str:
    """A readable list of misunderstood messages for a failing gate."""
    lines = [f"  {expected:<32} got {got:<32} {text[:80]!r}" for text, expected, got in errors]
    return "\n".join(lines[:limit])
