"""Choose the studio's grouping thresholds on public data, not on the studio bench's messages.

    python -m bench.clusters [--rounds 8]

Each round imitates a day of misses: three intents of a public dataset play the topics the
bot does not know (30 messages each) among 210 messages of the other intents. A topic is
*found* when one cluster holds at least 80 % of its messages and is itself at least 80 %
that topic, the studio bench's criterion. Three ways of grouping are swept: the sentence
encoder's vectors, the same with what the bot's own training phrases share removed (the
phrases of every other intent stand for the bot's), and the words. The table gives the
share of topics found, the mean share of a topic in its largest cluster, and that
cluster's mean purity. BANKING77 and CLINC150 test
messages, seeded draws; a dataset that is absent is skipped and said so.

A second table chooses where familiarity (``bot/familiarity.py``) marks a message as a
miss: each intent keeps 15 or 30 training phrases (ours have 12 to 40), an in-scope test
message is scored against its own intent's phrases (what a right guess gets) and an
out-of-scope one against the intent it is most like (the most favourable wrong guess).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.datasets import Pair, load, sample
from bench.report import table, write
from bot.familiarity import familiarity
from studio.clusters import Encode, cluster

TOPICS, PER_TOPIC, BACKGROUND = 3, 30, 210
FOUND = 0.8
FAMILIARITY_PHRASES, FAMILIARITY_TEST, FAMILIARITY_SWEEP = (
    (15, 30),
    3000,
    (0.35, 0.4, 0.45, 0.5, 0.55),
)
RAW, APART, WORDS = "sentence encoder", "sentence encoder, common part removed", "words"
SWEEPS = {
    RAW: [round(0.30 + 0.05 * i, 2) for i in range(11)],
    APART: [round(0.60 + 0.05 * i, 2) for i in range(8)],
    WORDS: [round(0.80 + 0.02 * i, 2) for i in range(9)],
}
REFERENCE = 1500  # training phrases standing for the bot's own (ours has about as many)


def day(pairs: Sequence[Pair], seed: int) -> tuple[list[str], list[str | None]]:
    """Messages of one imitated day and, for each, its topic (None for the background)."""
    rng = random.Random(seed)  # noqa: S311 -- seeded draws of benchmark messages
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in pairs:
        by_intent[intent].append(text)
    intents = sorted(i for i, texts in by_intent.items() if len(texts) >= PER_TOPIC)
    topics = rng.sample(intents, TOPICS)
    chosen: list[tuple[str, str | None]] = [
        (t, topic) for topic in topics for t in rng.sample(by_intent[topic], PER_TOPIC)
    ]
    rest = [text for text, intent in pairs if intent not in topics]
    chosen += [(t, None) for t in rng.sample(rest, BACKGROUND)]
    rng.shuffle(chosen)
    return [t for t, _ in chosen], [topic for _, topic in chosen]


def score(clusters: list[list[int]], truth: list[str | None]) -> list[tuple[float, float]]:
    """For each topic: the share of it in its largest cluster, and that cluster's purity."""
    out = []
    for topic in sorted({t for t in truth if t is not None}):
        total = sum(1 for t in truth if t == topic)
        best = max(clusters, key=lambda c: sum(1 for i in c if truth[i] == topic))
        held = sum(1 for i in best if truth[i] == topic)
        out.append((held / total, held / len(best)))
    return out


def without_common(encode: Encode, phrases: Sequence[str], directions: int = 3) -> Encode:
    """``encode`` with what the bot's training ``phrases`` share removed: their mean vector
    and their ``directions`` main principal directions, the rest scaled to unit length.

    Every customer-support question is alike in the raw vectors ("can I", "do you", an
    order somewhere), which ties unrelated topics together; removing the common part of
    the bot's own phrases (Mu & Viswanath's "all-but-the-top") leaves what sets a topic
    apart. Without phrases, ``encode`` itself.

    Measured here, not shipped: at 0.85 it finds 0.71 of the topics (averaged over the two
    datasets) where the raw vectors' best finds 0.50, but on the hand-written topics of
    tests/studio/test_clusters.py one paraphrase fell out of its topic and an ignored
    weather question claimed the rental cluster (the ignore rule wants a stricter test
    first); on the studio bench's day it moved bulk orders 8 -> 10 and trade-ins 10 -> 11.
    """
    if not phrases:
        return encode
    reference = np.asarray(encode(list(phrases)), dtype=np.float32)
    mean = reference.mean(axis=0)
    principal = np.linalg.svd(reference - mean, full_matrices=False)[2][:directions]

    def encode_apart(texts: list[str]) -> np.ndarray:
        vectors = np.asarray(encode(texts), dtype=np.float32) - mean
        vectors -= (vectors @ principal.T) @ principal
        lengths = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return (vectors / lengths).astype(np.float32)

    return encode_apart


def phrases_of_the_bot(train: Sequence[Pair], topics: set[str], seed: int) -> list[str]:
    """Training phrases of every intent but the day's topics (the bot was never taught
    those): what ``without_common`` takes out."""
    pool = [text for text, intent in train if intent not in topics]
    return random.Random(seed).sample(pool, min(REFERENCE, len(pool)))  # noqa: S311 -- seeded


def sweep(name: str, dataset: Any, rounds: int, encode: Encode) -> list[list[str]]:
    days = [day(dataset.test, seed) for seed in range(rounds)]
    apart = [
        without_common(encode, phrases_of_the_bot(dataset.train, {t for t in truth if t}, seed))
        for seed, (_, truth) in enumerate(days)
    ]
    rows = []
    for grouping, thresholds in SWEEPS.items():
        for threshold in thresholds:
            scores: list[tuple[float, float]] = []
            start = time.perf_counter()
            for seed, (texts, truth) in enumerate(days):
                use = {RAW: encode, APART: apart[seed], WORDS: None}[grouping]
                found = cluster(texts, threshold=threshold, encode=use)
                scores += score([list(c.members) for c in found], truth)
            seconds = (time.perf_counter() - start) / len(days)
            hit = np.mean([share >= FOUND and purity >= FOUND for share, purity in scores])
            rows.append(
                [
                    name,
                    grouping,
                    f"{threshold:.2f}",
                    f"{hit:.2f}",
                    f"{np.mean([s for s, _ in scores]):.2f}",
                    f"{np.mean([p for _, p in scores]):.2f}",
                    f"{seconds:.2f}",
                ]
            )
    return rows


def familiarity_sweep(dataset: Any, encode: Encode) -> list[list[str]]:
    """In-scope and out-of-scope test messages marked unfamiliar, by threshold."""
    rows = []
    for per_intent in FAMILIARITY_PHRASES:
        drawn = sample(dataset, per_intent, FAMILIARITY_TEST, seed=1)
        train = [(t, i) for t, i in drawn.train if i != dataset.out_of_scope]
        labels = np.array([i for _, i in train])
        names = np.unique(labels)
        similarity = (
            np.asarray(encode([t for t, _ in drawn.test]))
            @ np.asarray(encode([t for t, _ in train])).T
        )
        inside, outside = [], []
        for (_, intent), row in zip(drawn.test, similarity, strict=True):
            if intent == dataset.out_of_scope:
                outside.append(max(familiarity(row[labels == n], 3) for n in names))
            else:
                inside.append(familiarity(row[labels == intent], 3))
        for threshold in FAMILIARITY_SWEEP:
            marked_out = f"{np.mean(np.array(outside) < threshold):.3f}" if outside else "-"
            rows.append(
                [
                    dataset.name,
                    str(per_intent),
                    f"{threshold:.2f}",
                    f"{np.mean(np.array(inside) < threshold):.3f}",
                    marked_out,
                ]
            )
    return rows


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    options = parser.parse_args(argv)
    from bot.encoder import Remembered, shared

    encode = Remembered(shared().encode)
    rows: list[list[str]] = []
    familiar: list[list[str]] = []
    skipped: list[str] = []
    for name in ("BANKING77", "CLINC150"):
        dataset = load(name)
        if isinstance(dataset, str):
            skipped.append(dataset)
            print(dataset)
            continue
        rows += sweep(name, dataset, options.rounds, encode)
        familiar += familiarity_sweep(dataset, encode)
    if not rows:
        return 1
    header = ["dataset", "grouping", "threshold", "topics found", "share", "purity", "s/day"]
    text = (
        f"{options.rounds} seeded days per dataset, each {TOPICS} topics × {PER_TOPIC} messages "
        f"among {BACKGROUND} others. Found: one cluster holds ≥ {FOUND:.0%} of a topic and is "
        f"≥ {FOUND:.0%} that topic. s/day: seconds to group one day (encoder vectors cached "
        "after the first threshold).\n\n" + table(header, rows)
    )
    marked = ["dataset", "phrases an intent", "below", "in-scope marked", "out-of-scope marked"]
    sections = {
        "Topics found by threshold": text,
        "Unfamiliar messages by threshold": (
            "Familiarity: the mean cosine similarity to the 3 closest training phrases of the "
            "guess (the true intent for in-scope messages, the closest intent for out-of-scope "
            f"ones); {FAMILIARITY_TEST} test messages drawn.\n\n" + table(marked, familiar)
        ),
    }
    if skipped:
        sections["Skipped"] = "\n".join(f"- {line}" for line in skipped)
    write("clusters", "make bench-clusters", sections)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
