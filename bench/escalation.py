"""Escalation quality on the labelled conversations, a threshold sweep, and the
frustration score against plain VADER on GoEmotions and on the conversations' messages.

    make bench-escalation

Separation is ROC-AUC and the recall at 10 % false alarms: the threshold that flags one
calm message in ten, and the share of frustrated messages scored above it. In the labelled
conversations a message is *calm* when its conversation should never escalate, and
*frustrated* when it is the turn at which a ``strong_negative`` escalation is expected;
the trained score there is the one the assistant parsed (context included).

GoEmotions (``$LARKSPUR_DATASETS/goemotions``, by default ../shared/datasets/goemotions,
Apache-2.0) is used for measurement only: a comment is "frustrated" when labelled anger,
annoyance or disappointment. Each scorer's decision threshold is the one with the best F1 on
the dev split, applied to the test split. Without the dataset that section is skipped, and
the results say so.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml

from bench.report import table, write
from bot.escalation import Settings, Turn
from bot.frustration import LEVELS, FrustrationModel, load_examples, score, vader_compound
from bot.sentiment import training_set
from tools.escalation_eval import (
    FRESH,
    HOLDOUT,
    Conversation,
    Outcome,
    load_conversations,
    parse_turns,
    replay,
    scores,
)
from tools.model_cache import model_path

DATASETS = Path(os.environ.get("LARKSPUR_DATASETS", "../shared/datasets"))
FRUSTRATED = {"anger", "annoyance", "disappointment"}
STRONG = [-0.4, -0.5, -0.55, -0.6, -0.65, -0.7, -0.8]
TREND = [-0.2, -0.25, -0.3, -0.35, -0.4, -0.45, -0.5]
EACH = [-0.1, -0.15, -0.2, -0.25, -0.3, -0.35]
SENSITIVE = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85]
REGULARIZATION = [1.0, 5.0, 20.0, 50.0, 100.0]


def goemotions(folder: Path, split: str) -> tuple[list[str], list[int]]:
    labels = (folder / "labels.txt").read_text().split()
    texts, gold = [], []
    with (folder / f"{split}.tsv").open(newline="") as handle:
        for text, ids, _ in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(text)
            gold.append(int(any(labels[int(i)] in FRUSTRATED for i in ids.split(","))))
    return texts, gold


def frustration_model() -> FrustrationModel:
    """Trained from the same files and config.yml settings as the Rasa component."""
    from rasa.shared.nlu.training_data.loading import load_data

    pipeline = yaml.safe_load(Path("config.yml").read_text())["pipeline"]
    config = next(c for c in pipeline if c["name"] == "bot.sentiment.SentimentAnalyzer")
    return FrustrationModel.train(*training_set(config, load_data("data/nlu")))


def cross_validation() -> str:
    """5-fold cross-validation of the frustration model on the labelled files."""
    from sklearn.model_selection import StratifiedKFold

    examples = load_examples()
    texts = [text for text, _ in examples]
    levels = [level for _, level in examples]
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, levels))
    rows = []
    for regularization in REGULARIZATION:
        hits, errors = 0, 0.0
        for train, test in folds:
            model = FrustrationModel.train(
                [texts[i] for i in train], [levels[i] for i in train], None, regularization
            )
            held_out = [texts[i] for i in test]
            for i, levels_p, score_p in zip(
                test, model.probabilities(held_out), model.scores(held_out), strict=True
            ):
                hits += max(levels_p, key=levels_p.__getitem__) == levels[i]
                errors += abs(score_p - LEVELS[levels[i]])
        rows.append([regularization, hits / len(texts), errors / len(texts)])
    return (
        f"{len(texts)} labelled messages in data/frustration, 5 folds (the calm NLU examples "
        "are left out here).\n\n"
        + table(["C (inverse regularization)", "level accuracy", "score mean abs. error"], rows)
    )


def frustration_benchmark(datasets: Path = DATASETS) -> str:
    """The scorers on GoEmotions, or a "skipped: …" line when the dataset is not there."""
    from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score

    folder = datasets / "goemotions"
    if not (folder / "labels.txt").is_file():
        skipped = f"skipped: GoEmotions ({folder} not found; set LARKSPUR_DATASETS)"
        print(skipped, flush=True)
        return skipped
    dev_texts, dev_gold = goemotions(folder, "dev")
    test_texts, test_gold = goemotions(folder, "test")
    print("Training the frustration model as `make train` does …", flush=True)
    model = frustration_model()
    scorers: dict[str, Callable[[list[str]], list[float]]] = {
        "VADER compound": lambda texts: [vader_compound(t) for t in texts],
        "VADER + support cues (rules)": lambda texts: [score(t).score for t in texts],
        "trained model (shipped score)": model.scores,
    }
    rows = []
    for name, fn in scorers.items():
        dev = [-s for s in fn(dev_texts)]  # higher = more frustrated
        test = [-s for s in fn(test_texts)]
        p, r, thresholds = precision_recall_curve(dev_gold, dev)
        f1s = [2 * a * b / (a + b) if a + b else 0 for a, b in zip(p[:-1], r[:-1], strict=True)]
        best = thresholds[max(range(len(f1s)), key=f1s.__getitem__)]
        predicted = [int(s >= best) for s in test]
        rows.append(
            [
                name,
                roc_auc_score(test_gold, test),
                recall_at_false_alarms(test_gold, test),
                f1_score(test_gold, predicted),
                f"{-best:.3f}",
            ]
        )
    positives = sum(test_gold)
    return (
        f"GoEmotions test split: {len(test_gold)} comments, {positives} frustrated "
        f"(anger, annoyance or disappointment). Threshold picked on dev ({len(dev_gold)}).\n\n"
        + table(
            [
                "scorer",
                "ROC-AUC (test)",
                "recall at 10% false alarms (test)",
                "F1 (test)",
                "threshold (score <=)",
            ],
            rows,
        )
    )


FALSE_ALARMS = 0.10


def recall_at_false_alarms(gold: list[int], frustration: list[float]) -> float:
    """Share of frustrated messages scored above the cut that flags 10 % of calm ones."""
    import numpy as np

    calm = np.sort([s for s, g in zip(frustration, gold, strict=True) if not g])
    frustrated = [s for s, g in zip(frustration, gold, strict=True) if g]
    if not len(calm) or not frustrated:
        return float("nan")
    cut = calm[int(np.ceil((1 - FALSE_ALARMS) * len(calm))) - 1]
    return float(np.mean([s > cut for s in frustrated]))


def separation(gold: list[int], frustration: list[float]) -> list[float]:
    """ROC-AUC and recall at 10 % false alarms (higher ``frustration`` = angrier)."""
    from sklearn.metrics import roc_auc_score

    return [float(roc_auc_score(gold, frustration)), recall_at_false_alarms(gold, frustration)]


def labelled_messages(
    conversations: list[Conversation], turns: list[list[Turn]]
) -> tuple[list[str], list[int], list[float]]:
    """Texts, frustrated (1) or calm (0), and the parsed score, of the labelled messages."""
    texts, gold, parsed = [], [], []
    for conversation, conv_turns in zip(conversations, turns, strict=True):
        if conversation.expected_trigger is None:
            chosen = [(t, 0) for t in conv_turns]
        elif conversation.expected_trigger == "strong_negative" and conversation.expected_turn:
            chosen = [(conv_turns[conversation.expected_turn - 1], 1)]
        else:
            continue
        texts += [t.text for t, _ in chosen]
        gold += [g for _, g in chosen]
        parsed += [t.sentiment for t, _ in chosen]
    return texts, gold, parsed


def conversation_separation(sets: dict[str, tuple[list[Conversation], list[list[Turn]]]]) -> str:
    """VADER, the rules and the shipped score on each labelled set's messages."""
    rows = []
    for name, (conversations, turns) in sets.items():
        texts, gold, parsed = labelled_messages(conversations, turns)
        scorers = {
            "VADER compound": [-vader_compound(t) for t in texts],
            "VADER + support cues (rules)": [-score(t).score for t in texts],
            "trained model (shipped score)": [-s for s in parsed],
        }
        for scorer, values in scorers.items():
            rows.append(
                [name, f"{len(gold) - sum(gold)} / {sum(gold)}", scorer, *separation(gold, values)]
            )
    return (
        "Calm: every message of a conversation that should not escalate; frustrated: the "
        "message at which a `strong_negative` escalation is expected.\n\n"
        + table(
            ["set", "calm / frustrated", "scorer", "ROC-AUC", "recall at 10% false alarms"], rows
        )
    )


def outcome_report(outcomes: list[Outcome]) -> tuple[str, str]:
    """The per-trigger table (with must-pass count) and the list of misjudged ones."""
    conversations = [o.conversation for o in outcomes]
    rows = [[n, s.support, s.precision, s.recall, s.f1] for n, s in scores(outcomes).items()]
    must = [o for o in outcomes if o.conversation.must_pass]
    escalating = sum(c.expected_trigger is not None for c in conversations)
    summary = (
        f"{len(conversations)} conversations, {escalating} labelled to escalate; "
        f"a prediction counts only with the right turn and trigger. "
        f"Must-pass: {sum(o.correct for o in must)}/{len(must)} correct.\n\n"
        + table(["trigger", "support", "precision", "recall", "F1"], rows)
    )
    misjudged = "\n".join(
        f"- `{o.conversation.id}`: expected {o.conversation.expected_trigger or 'none'}"
        f"@{o.conversation.expected_turn or '-'}, got {o.trigger or 'none'}@{o.turn or '-'}"
        for o in outcomes
        if not o.correct
    )
    return summary, misjudged or "None."


def sweeps(
    conversations: list[Conversation], turns: list[list[Turn]], settings: Settings
) -> tuple[str, str, str]:
    """Overall F1 over strong_negative x trend_threshold, trend_each, sensitive confidence."""

    def f1(swept: Settings) -> float:
        return scores(replay(conversations, turns, swept))["overall"].f1

    grid = [
        [strong, trend, f1(replace(settings, strong_negative=strong, trend_threshold=trend))]
        for strong in STRONG
        for trend in TREND
    ]
    best = max(grid, key=lambda row: row[2])
    each = [[value, f1(replace(settings, trend_each=value))] for value in EACH]
    sensitive = [
        [value, f1(replace(settings, sensitive_min_confidence=value))] for value in SENSITIVE
    ]
    return (
        f"Shipped: strong_negative {settings.strong_negative}, trend_threshold "
        f"{settings.trend_threshold}. Best in the sweep: {best[0]} / {best[1]} "
        f"(F1 {best[2]:.3f}).\n\n"
        + table(["strong_negative", "trend_threshold", "overall F1"], grid),
        f"Every one of the last {settings.trend_window} turns at or below `trend_each` "
        f"(other thresholds as shipped; shipped trend_each {settings.trend_each}).\n\n"
        + table(["trend_each", "overall F1"], each),
        f"Intent confidence a sensitive topic needs (shipped {settings.sensitive_min_confidence})"
        ".\n\n" + table(["sensitive_min_confidence", "overall F1"], sensitive),
    )


def main() -> int:
    settings = Settings.load()
    conversations, holdout = load_conversations(), load_conversations(HOLDOUT)
    fresh = load_conversations(FRESH)
    messages = sum(len(c.texts) for c in (*conversations, *holdout, *fresh))
    print(f"Parsing {messages} messages …", flush=True)
    turns = parse_turns(model_path(), conversations, settings)
    outcomes = replay(conversations, turns, settings)
    summary, misjudged = outcome_report(outcomes)
    holdout_turns = parse_turns(model_path(), holdout, settings)
    held_summary, held_misjudged = outcome_report(replay(holdout, holdout_turns, settings))
    fresh_turns = parse_turns(model_path(), fresh, settings)
    fresh_summary, _ = outcome_report(replay(fresh, fresh_turns, settings))
    sets = {
        "tuning": (conversations, turns),
        "holdout": (holdout, holdout_turns),
        "fresh": (fresh, fresh_turns),
    }
    grid, each, sensitive = sweeps(conversations, turns, settings)
    print("Cross-validating the frustration model and scoring GoEmotions …", flush=True)
    write(
        "escalation",
        "make bench-escalation",
        {
            "Escalation on the labelled conversations": summary,
            "Misjudged conversations": misjudged,
            "Threshold sweep (overall F1)": grid,
            "Persistent-negativity sweep (overall F1)": each,
            "Sensitive-topic confidence sweep (overall F1)": sensitive,
            "Held-out conversations": (
                f"`{HOLDOUT}`, written apart from the tuning set above by a writer who saw "
                "neither the model nor its data, and never used to pick a threshold.\n\n"
                + held_summary
            ),
            "Misjudged held-out conversations": held_misjudged,
            "Fresh held-out conversations": (
                f"`{FRESH}`, written blind on 2026-12-02 by a writer who saw neither the model, "
                "its training data nor the two sets above (only the policy file "
                "`escalation.yml`), before any tuning on it; never used to pick anything. "
                "Its misjudged list is left out on purpose, so that nobody tunes on it.\n\n"
                + fresh_summary
            ),
            "Frustration model, cross-validated": cross_validation(),
            "Frustration score vs plain VADER": frustration_benchmark(),
            "Frustration score vs plain VADER on the labelled conversations": (
                conversation_separation(sets)
            ),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
