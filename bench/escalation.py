"""Escalation quality on the labelled conversations, a threshold sweep, and the
frustration score against plain VADER on GoEmotions.

    make bench-escalation

GoEmotions (../shared/datasets/goemotions, Apache-2.0) is used for measurement only: a
comment is "frustrated" when labelled anger, annoyance or disappointment. Each scorer's
decision threshold is the one with the best F1 on the dev split, applied to the test split.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from bench.report import table, write
from bot.escalation import TRIGGERS, Settings
from bot.escalation_eval import load_conversations, parse_turns, replay, scores
from bot.frustration import score, vader_compound
from bot.model_cache import model_path

GOEMOTIONS = Path("../shared/datasets/goemotions")
FRUSTRATED = {"anger", "annoyance", "disappointment"}
STRONG = [-0.4, -0.5, -0.55, -0.6, -0.65, -0.7, -0.8]
TREND = [-0.2, -0.25, -0.3, -0.35, -0.4, -0.45, -0.5]


def goemotions(split: str) -> tuple[list[str], list[int]]:
    labels = (GOEMOTIONS / "labels.txt").read_text().split()
    texts, gold = [], []
    with (GOEMOTIONS / f"{split}.tsv").open(newline="") as handle:
        for text, ids, _ in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(text)
            gold.append(int(any(labels[int(i)] in FRUSTRATED for i in ids.split(","))))
    return texts, gold


def frustration_benchmark() -> str:
    from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score

    dev_texts, dev_gold = goemotions("dev")
    test_texts, test_gold = goemotions("test")
    scorers = {"VADER compound": vader_compound, "VADER + support cues": lambda t: score(t).score}
    rows = []
    for name, fn in scorers.items():
        dev = [-fn(t) for t in dev_texts]  # higher = more frustrated
        test = [-fn(t) for t in test_texts]
        p, r, thresholds = precision_recall_curve(dev_gold, dev)
        f1s = [2 * a * b / (a + b) if a + b else 0 for a, b in zip(p[:-1], r[:-1], strict=True)]
        best = thresholds[max(range(len(f1s)), key=f1s.__getitem__)]
        predicted = [int(s >= best) for s in test]
        rows.append(
            [name, roc_auc_score(test_gold, test), f1_score(test_gold, predicted), f"{-best:.3f}"]
        )
    positives = sum(test_gold)
    return (
        f"GoEmotions test split: {len(test_gold)} comments, {positives} frustrated "
        f"(anger, annoyance or disappointment). Threshold picked on dev ({len(dev_gold)}).\n\n"
        + table(["scorer", "ROC-AUC (test)", "F1 (test)", "threshold (score <=)"], rows)
    )


def main() -> int:
    settings = Settings.load()
    conversations = load_conversations()
    print(f"Parsing {sum(len(c.texts) for c in conversations)} messages …", flush=True)
    turns = parse_turns(model_path(), conversations, settings)
    outcomes = replay(conversations, turns, settings)
    result = scores(outcomes)
    rows = [[n, s.support, s.precision, s.recall, s.f1] for n, s in result.items()]
    failures = [o for o in outcomes if not o.correct]
    must = [o for o in outcomes if o.conversation.must_pass]
    sweep = []
    for strong in STRONG:
        for trend in TREND:
            swept = replace(settings, strong_negative=strong, trend_threshold=trend)
            f1 = scores(replay(conversations, turns, swept))["overall"].f1
            sweep.append([strong, trend, f1])
    best = max(sweep, key=lambda row: row[2])
    escalating = sum(c.expected_trigger is not None for c in conversations)
    print("Scoring GoEmotions …", flush=True)
    write(
        "escalation",
        "make bench-escalation",
        {
            "Escalation on the labelled conversations": (
                f"{len(conversations)} conversations, {escalating} labelled to escalate; "
                f"a prediction counts only with the right turn and trigger. "
                f"Must-pass: {sum(o.correct for o in must)}/{len(must)} correct.\n\n"
                + table(["trigger", "support", "precision", "recall", "F1"], rows)
            ),
            "Misjudged conversations": "\n".join(
                f"- `{o.conversation.id}`: expected {o.conversation.expected_trigger or 'none'}"
                f"@{o.conversation.expected_turn or '-'}, got {o.trigger or 'none'}@{o.turn or '-'}"
                for o in failures
            )
            or "None.",
            "Threshold sweep (overall F1)": (
                f"Shipped: strong_negative {settings.strong_negative}, trend_threshold "
                f"{settings.trend_threshold}. Best in the sweep: {best[0]} / {best[1]} "
                f"(F1 {best[2]:.3f}).\n\n"
                + table(["strong_negative", "trend_threshold", "overall F1"], sweep)
            ),
            "Frustration score vs plain VADER": frustration_benchmark(),
        },
    )
    assert set(TRIGGERS) <= set(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
