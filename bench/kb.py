"""Help-article retrieval: top-1 accuracy and a sweep of the answer threshold.

    make bench-kb

For each threshold: the share of held-out article questions answered with the right
article, the share answered with a wrong one, and the share of out-of-scope messages
(tests/nlu/out_of_scope.yml) for which the search rightly finds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from actions.knowledge import (
    MIN_SCORE,
    MIN_SCORE_ASKED,
    SEMANTIC_WEIGHT,
    ArticleIndex,
    Hit,
    load_articles,
    sentence_encoder,
    spacy_lemmatizer,
)
from bench.report import table, write
from tools.evaluation import HELDOUT_OUT_OF_SCOPE, load_examples

QUESTIONS = Path("tests/articles/heldout_questions.yml")
SHIPPED = {
    MIN_SCORE_ASKED: f"{MIN_SCORE_ASKED} (search_help)",
    MIN_SCORE: f"{MIN_SCORE} (fallback)",
}
THRESHOLDS = [0.0, 0.1, 0.15, 0.2, 0.22, 0.25, 0.3, 0.35, 0.4]


def sweep(best: list[Hit], questions: list[dict[str, Any]], oos_best: list[float]) -> str:
    """For each threshold: right and wrong answers, and out-of-scope messages rejected."""
    rows = []
    for t in THRESHOLDS:
        right = sum(
            h.score >= t and h.passage.article.slug == q["slug"]
            for h, q in zip(best, questions, strict=True)
        )
        wrong = sum(
            h.score >= t and h.passage.article.slug != q["slug"]
            for h, q in zip(best, questions, strict=True)
        )
        rejected = sum(s < t for s in oos_best)
        rows.append(
            [
                SHIPPED.get(t, t),
                right / len(questions),
                wrong / len(questions),
                rejected / len(oos_best),
            ]
        )
    return table(
        [
            "threshold",
            "answered, right article",
            "answered, wrong article",
            "out-of-scope rejected",
        ],
        rows,
    )


def main() -> int:
    lemmas = spacy_lemmatizer()
    indexes = {
        f"hybrid: lexical + {SEMANTIC_WEIGHT} sentence-vector cosine (shipped)": ArticleIndex(
            load_articles(), lemmas, sentence_encoder()
        ),
        "lexical only (before the encoder)": ArticleIndex(load_articles(), lemmas),
    }
    questions = yaml.safe_load(QUESTIONS.read_text())["questions"]
    oos = [e.text for e in load_examples(HELDOUT_OUT_OF_SCOPE)]
    rows, found = [], {}
    for name, index in indexes.items():
        best = [index.ranked(q["text"])[0] for q in questions]
        oos_best = [index.ranked(text)[0].score for text in oos]
        right = [h.passage.article.slug == q["slug"] for h, q in zip(best, questions, strict=True)]
        rows.append([name, sum(right), len(questions), sum(right) / len(questions)])
        found[f"Answer threshold sweep: {name}"] = sweep(best, questions, oos_best)
    write(
        "kb",
        "make bench-kb",
        {
            "Top-1 article, no threshold": (
                f"{len(questions)} held-out questions over {len(load_articles())} articles; "
                f"out-of-scope messages: {len(oos)}.\n\n"
                + table(["search", "right article first", "questions", "top-1"], rows)
            ),
            **found,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
