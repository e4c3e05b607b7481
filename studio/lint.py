"""Checks on the content an editor writes, for the studio's page and the terminal.

Errors stop a check from passing: an FAQ without an answer or an answer without an FAQ,
one phrase in two intents, a help-centre link to no article, an article whose front
matter does not read. Warnings are for a person to judge: fewer than ``MIN_PHRASES``
phrases, an answer over ``ANSWER_GUIDE`` characters, and a phrase too close to another
intent's (Dialogflow CX's "training phrases too similar"): the mean of the word and
character n-gram TF-IDF cosines, ``SIMILAR`` or more. On the shipped data that flags two
pairs ("thank you" / "no thank you", "return shipping fee" / "shipping fee?").

``lint(root)`` checks everything; ``lint(root, draft)`` checks an FAQ as the editor is
typing it, against the saved rest, and reports what concerns that FAQ only.

    python -m studio.lint [--root DIR] [--fail-on-warnings]

prints one line per finding, like ``rasa data validate``, and exits 1 on an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from contracts.articles import ArticleError, parse_text
from contracts.understanding import ARTICLE_LINK_PREFIX
from studio.faqs import (
    ANSWER_GUIDE,
    ARTICLES_DIR,
    CURATED_FILE,
    FAQ,
    HELD_OUT_SETS,
    MIN_PHRASES,
    RESPONSES_FILE,
    Faqs,
    links,
    split_answer,
)
from studio.files import ContentError
from studio.text import normalise, one_line, plain_phrase

SIMILAR = 0.80
Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem: how bad, a code for programs, where, what it is about, and why."""

    level: Level
    code: str
    file: str
    subject: str  # an intent, faq/<key>, or an article's slug
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.level.upper():<7} {self.file}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Draft:
    """An FAQ as the editor has it on screen, not saved yet."""

    key: str
    answer: str
    article: str | None
    phrases: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{FAQ}/{self.key}"


@dataclass(frozen=True)
class _Phrase:
    intent: str
    text: str
    file: str


@dataclass
class _Content:
    phrases: list[_Phrase]
    held: list[_Phrase]  # the held-out test sets' messages
    answers: dict[str, tuple[str, str]]  # key → (response text, file)
    articles: set[str]
    findings: list[Finding]


def lint(root: Path, draft: Draft | None = None) -> list[Finding]:
    """Every finding in the content under ``root``, or those about ``draft``."""
    try:
        content = _read(Path(root), draft)
    except ContentError as error:  # a file that does not read: that is the finding
        subject = draft.name if draft is not None else "content"
        return [
            Finding("error", error.code, error.message.split(" ", 1)[0], subject, error.message)
        ]
    found = [
        *content.findings,
        *_pairing(content),
        *_duplicates(content),
        *_held_out(content, draft),
        *_similar(content, draft),
        *_few(content),
        *_answers(content),
    ]
    if draft is not None:
        found = [f for f in found if f.subject == draft.name]
    order = {"error": 0, "warning": 1}
    return sorted(found, key=lambda f: (order[f.level], f.file, f.subject, f.code))


def _read(root: Path, draft: Draft | None) -> _Content:
    faqs = Faqs(root)
    phrases = [_Phrase(b.intent, t, b.file) for b in faqs.blocks() for t in b.lines]
    answers = {key: (text, RESPONSES_FILE) for key, text in faqs.responses().items()}
    held = [_Phrase(b.intent, t, b.file) for b in faqs.blocks(HELD_OUT_SETS) for t in b.lines]
    articles, findings = _articles(root)
    if draft is not None:
        phrases = [p for p in phrases if p.intent != draft.name]
        phrases += [
            _Phrase(draft.name, one_line(t), CURATED_FILE) for t in draft.phrases if t.strip()
        ]
        text = draft.answer.strip()
        if draft.article:
            text += f" [{draft.article}]({ARTICLE_LINK_PREFIX}{draft.article})"
        answers[draft.key] = (text, RESPONSES_FILE)
    return _Content(phrases, held, answers, articles, findings)


def _articles(root: Path) -> tuple[set[str], list[Finding]]:
    """The slugs of the articles that read, and a finding for each one that does not or
    that links to no article."""
    slugs: set[str] = set()
    findings: list[Finding] = []
    bodies: list[tuple[str, str, str]] = []
    for path in sorted((root / ARTICLES_DIR).glob("*.md")):
        name = path.relative_to(root).as_posix()
        try:
            article = parse_text(path.read_text(encoding="utf-8"), name)
        except ArticleError as error:
            findings.append(Finding("error", "invalid_article", name, path.stem, str(error)))
            continue
        if article.slug != path.stem:
            message = f"the slug '{article.slug}' must equal the file name '{path.stem}'"
            findings.append(Finding("error", "slug_mismatch", name, path.stem, message))
        slugs.add(article.slug)
        bodies.append((name, article.slug, article.body))
    for name, slug, body in bodies:
        for target in links(body):
            if target not in slugs:
                message = f"links to the article '{target}', which does not exist"
                findings.append(
                    Finding("error", "dead_link", name, slug, message, {"slug": target})
                )
    return slugs, findings


def _pairing(content: _Content) -> list[Finding]:
    """An FAQ's phrases and its answer come together."""
    with_phrases: dict[str, str] = {}
    for phrase in content.phrases:
        prefix, _, key = phrase.intent.partition("/")
        if prefix == FAQ and key:
            with_phrases.setdefault(key, phrase.file)
    found = [
        Finding(
            "error",
            "faq_without_answer",
            file,
            f"{FAQ}/{key}",
            f"{FAQ}/{key} has phrases but no answer in {RESPONSES_FILE}",
        )
        for key, file in with_phrases.items()
        if not content.answers.get(key, ("", ""))[0].strip()
    ]
    found += [
        Finding(
            "error",
            "answer_without_faq",
            file,
            f"{FAQ}/{key}",
            f"utter_{FAQ}/{key} answers an FAQ that has no phrases",
        )
        for key, (_, file) in content.answers.items()
        if key not in with_phrases
    ]
    return found


def _duplicates(content: _Content) -> list[Finding]:
    """One message, two intents: the classifier is taught both."""
    first: dict[str, _Phrase] = {}
    found = []
    for phrase in content.phrases:
        same = normalise(plain_phrase(phrase.text))
        other = first.setdefault(same, phrase)
        if other.intent != phrase.intent:
            for one, two in ((phrase, other), (other, phrase)):
                found.append(
                    Finding(
                        "error",
                        "phrase_in_two_intents",
                        one.file,
                        one.intent,
                        f"'{one.text}' is a phrase of {one.intent} and of {two.intent} "
                        f"({two.file})",
                        {"phrase": one.text, "other": two.text, "other_intent": two.intent},
                    )
                )
    return found


def _held_out(content: _Content, draft: Draft | None) -> list[Finding]:
    """Training phrases that a held-out set also has: the held-out score counts them as
    unseen. A draft's phrase there is an error (saving it is refused); the content's own
    are a warning per set and intent."""
    training = {normalise(plain_phrase(p.text)): p for p in content.phrases}
    found = []
    leaks: dict[tuple[str, str], list[_Phrase]] = {}
    for message in content.held:
        phrase = training.get(normalise(plain_phrase(message.text)))
        if phrase is None:
            continue
        if draft is not None and phrase.intent == draft.name:
            note = (
                f"'{phrase.text}' is in the held-out test set {message.file}: a message "
                "there must not also be a training phrase"
            )
            found.append(
                Finding(
                    "error",
                    "in_held_out",
                    phrase.file,
                    phrase.intent,
                    note,
                    {"phrase": phrase.text, "set": message.file},
                )
            )
        elif draft is None:
            leaks.setdefault((message.file, message.intent), []).append(message)
    for (file, intent), messages in leaks.items():
        count = len(messages)
        are = "are training phrases" if count > 1 else "is a training phrase"
        note = (
            f"{count} of its messages here {are} too (e.g. '{messages[0].text}'): the "
            "held-out score counts them as unseen"
        )
        found.append(
            Finding("warning", "in_held_out", file, intent, note, {"messages": len(messages)})
        )
    return found


def _similar(content: _Content, draft: Draft | None) -> list[Finding]:
    """The closest other-intent phrase of every phrase, where it is ``SIMILAR`` or closer;
    for a draft, of its phrases only. One finding per pair of intents, the closest pair."""
    texts = tuple(normalise(plain_phrase(p.text)) for p in content.phrases)
    if len(texts) < 2:
        return []
    labels = np.array([p.intent for p in content.phrases])
    rows = np.arange(len(texts))
    if draft is not None:
        rows = np.flatnonzero(labels == draft.name)
    if not len(rows):
        return []
    scores = _cosines(texts, tuple(rows.tolist()))
    scores[labels[rows][:, None] == labels[None, :]] = 0.0
    same = np.array(texts, dtype=object)
    scores[same[rows][:, None] == same[None, :]] = 0.0  # one message twice: a duplicate
    best: dict[tuple[str, ...], tuple[float, int, int]] = {}
    for i, row in enumerate(rows):
        column = int(scores[i].argmax())
        score = float(scores[i, column])
        if score < SIMILAR:
            continue
        pair = tuple(sorted((str(labels[row]), str(labels[column]))))
        if score > best.get(pair, (0.0, 0, 0))[0]:
            best[pair] = (score, int(row), column)
    return [
        _similar_finding(content.phrases[a], content.phrases[b], s) for s, a, b in best.values()
    ]


def _similar_finding(one: _Phrase, two: _Phrase, score: float) -> Finding:
    message = (
        f"'{one.text}' ({one.intent}) is {score:.2f} similar to '{two.text}' ({two.intent}): "
        "the assistant may confuse them"
    )
    detail = {
        "phrase": one.text,
        "other": two.text,
        "other_intent": two.intent,
        "similarity": round(score, 3),
    }
    return Finding("warning", "phrases_too_similar", one.file, one.intent, message, detail)


def _cosines(texts: tuple[str, ...], rows: tuple[int, ...]) -> Any:
    """Cosines of ``rows``' texts with every text: the mean of word and character TF-IDF."""
    matrices = _vectors(texts)
    picked = list(rows)
    return sum((m[picked] @ m.T).toarray() for m in matrices) / len(matrices)


@lru_cache(maxsize=4)
def _vectors(texts: tuple[str, ...]) -> tuple[Any, ...]:
    """The texts' TF-IDF rows, words (1 to 2) and characters (3 to 5): fitted once per content."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    kinds = (("word", (1, 2)), ("char_wb", (3, 5)))
    return tuple(
        TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True).fit_transform(
            texts
        )
        for analyzer, ngrams in kinds
    )


def _few(content: _Content) -> list[Finding]:
    counts: dict[str, tuple[int, str]] = {}
    for phrase in content.phrases:
        count, file = counts.get(phrase.intent, (0, phrase.file))
        counts[phrase.intent] = (count + 1, file)
    return [
        Finding(
            "warning",
            "few_phrases",
            file,
            intent,
            f"{intent} has {count} phrases: {MIN_PHRASES} or more, in different words, "
            "teach the assistant its variety",
            {"phrases": count},
        )
        for intent, (count, file) in counts.items()
        if count < MIN_PHRASES
    ]


def _answers(content: _Content) -> list[Finding]:
    found = []
    for key, (text, file) in content.answers.items():
        answer, _ = split_answer(text)
        subject = f"{FAQ}/{key}"
        if len(answer) > ANSWER_GUIDE:
            message = (
                f"the answer of {subject} is {len(answer)} characters: keep it under "
                f"{ANSWER_GUIDE}, and put the detail in an article"
            )
            found.append(
                Finding(
                    "warning", "answer_too_long", file, subject, message, {"length": len(answer)}
                )
            )
        for slug in links(text):
            if slug not in content.articles:
                message = (
                    f"the answer of {subject} links to the article '{slug}', which does not exist"
                )
                found.append(Finding("error", "dead_link", file, subject, message, {"slug": slug}))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the content root")
    parser.add_argument("--fail-on-warnings", action="store_true")
    args = parser.parse_args(argv)
    found = lint(args.root)
    for finding in found:
        print(finding.line())
    errors = sum(f.level == "error" for f in found)
    warnings = len(found) - errors
    print(f"content checks: {errors} errors, {warnings} warnings")
    return 1 if errors or (warnings and args.fail_on_warnings) else 0


if __name__ == "__main__":
    sys.exit(main())
