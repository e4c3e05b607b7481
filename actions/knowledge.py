"""Help-article search: TF-IDF over spaCy lemmas and character n-grams, plus meaning.

Articles live in ``data/articles/*.md`` (front matter: title, slug, tags). Each article is
split into passages (the intro and each ``##`` section); a question is scored against every
passage, an article's score is its best passage's, and the answer is that passage plus a
link. The lexical score (words and character n-grams, which forgive typos) is blended with
the cosine of the question's and the passage's sentence vectors (``bot.encoder``, the
vectors the NLU reads): ``SEMANTIC_WEIGHT`` of the score. On the held-out questions that
took the right article first from 0.922 to 0.989 (results/kb.md).

Below a minimum score the search reports no answer, which later counts as a miss for
escalation. Two minimums, both tuned with ``make bench-kb``: a low one when the NLU
already recognised a product question (``search_help``), and a stricter one when the
search is the fallback for a message the NLU did not understand, which is often off-topic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from actions.settings import settings
from contracts.articles import Article, ArticleError, Passage, parse_article, split_passages

__all__ = [
    "Article",
    "ArticleError",
    "ArticleIndex",
    "Hit",
    "Passage",
    "get_index",
    "load_articles",
    "parse_article",
    "split_passages",
]
ARTICLES_DIR = Path("data/articles")
MIN_SCORE_ASKED = 0.1  # intent search_help: the customer asked about our gear
MIN_SCORE = 0.22  # nlu_fallback: rejects 87% of off-topic messages (results/kb.md)
WORD_WEIGHT = 0.6  # of the lexical score; the rest goes to character n-grams
SEMANTIC_WEIGHT = 0.3  # of the whole score, when the index has an encoder
Encode = Callable[[list[str]], Any]  # texts -> rows of unit vectors


@dataclass(frozen=True)
class Hit:
    """The best passage for a question and how well it matched (0..1)."""

    passage: Passage
    score: float


def load_articles(directory: Path = ARTICLES_DIR) -> list[Article]:
    """All articles in ``directory``, sorted by slug."""
    articles = [parse_article(path) for path in sorted(directory.glob("*.md"))]
    if not articles:
        raise ArticleError(f"no articles found in {directory}")
    return articles


def spacy_lemmatizer(model_path: str | None = None) -> Callable[[str], list[str]]:
    """Lemmas of content words, using the project's spaCy pipeline."""
    import spacy

    nlp = spacy.load(model_path or settings().spacy_model_path)

    def lemmas(text: str) -> list[str]:
        return [
            token.lemma_.lower()
            for token in nlp(text)
            if not (token.is_stop or token.is_punct or token.is_space)
        ]

    return lemmas


class ArticleIndex:
    """TF-IDF index over article passages; :meth:`search` returns the best passage.

    With ``encode`` (sentence vectors), the score is blended with their cosine.
    """

    def __init__(
        self,
        articles: Iterable[Article],
        lemmas: Callable[[str], list[str]],
        encode: Encode | None = None,
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.passages = [p for article in articles for p in split_passages(article)]
        documents = [self._document(p) for p in self.passages]
        self._words = TfidfVectorizer(analyzer=lemmas, sublinear_tf=True)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self._word_matrix = self._words.fit_transform(documents)
        self._char_matrix = self._chars.fit_transform(documents)
        self._encode = encode
        self._vectors = encode(documents) if encode and documents else None

    @staticmethod
    def _document(passage: Passage) -> str:
        article = passage.article
        return " ".join([article.title, " ".join(article.tags), passage.heading, passage.text])

    def scores(self, question: str) -> list[float]:
        """Score of every passage for ``question``."""
        words = (self._word_matrix @ self._words.transform([question]).T).toarray().ravel()
        chars = (self._char_matrix @ self._chars.transform([question]).T).toarray().ravel()
        lexical = WORD_WEIGHT * words + (1 - WORD_WEIGHT) * chars
        if self._encode is None or self._vectors is None:
            return list(lexical)
        meaning = self._vectors @ self._encode([question])[0]
        return list((1 - SEMANTIC_WEIGHT) * lexical + SEMANTIC_WEIGHT * meaning)

    def ranked(self, question: str) -> list[Hit]:
        """Best passage per article, best article first."""
        best: dict[str, Hit] = {}
        for passage, score in zip(self.passages, self.scores(question), strict=True):
            slug = passage.article.slug
            if slug not in best or score > best[slug].score:
                best[slug] = Hit(passage, float(score))
        return sorted(best.values(), key=lambda hit: -hit.score)

    def search(self, question: str, min_score: float = MIN_SCORE) -> Hit | None:
        """The best passage if it scores at least ``min_score``, else None."""
        hits = self.ranked(question)
        return hits[0] if hits and hits[0].score >= min_score else None


def sentence_encoder() -> Encode:
    """The NLU's sentence encoder (``bot.encoder``), loaded once per process."""
    from bot import encoder

    return encoder.shared().encode


def articles_dir() -> Path:
    """The published articles when the studio has published, else ``data/articles``."""
    live = settings().live_articles
    return Path(live) if live and Path(live).is_dir() else ARTICLES_DIR


def _stamp(directory: Path) -> tuple[Any, ...]:
    """Changes when an article file does, or when the link points at another version."""
    files = sorted(directory.glob("*.md"))
    found = ((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return (str(directory.resolve()), *found)


@lru_cache(maxsize=1)
def _readers() -> tuple[Callable[[str], list[str]], Encode]:
    """The lemmatizer and the sentence encoder, loaded once per process."""
    return spacy_lemmatizer(), sentence_encoder()


_built: dict[str, tuple[tuple[Any, ...], ArticleIndex]] = {}


def get_index() -> ArticleIndex:
    """The action server's index, built on first use and again after a publish changed
    the articles (telling costs a few stat calls a search)."""
    directory = articles_dir()
    stamp = _stamp(directory)
    known = _built.get("index")
    if known is None or known[0] != stamp:
        known = _built["index"] = (stamp, ArticleIndex(load_articles(directory), *_readers()))
    return known[1]
