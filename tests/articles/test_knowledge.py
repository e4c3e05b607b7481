"""Help-article search: article format, passages, and held-out retrieval quality."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from actions.articles import MAX_ANSWER_CHARS, format_answer
from actions.knowledge import (
    MIN_SCORE,
    MIN_SCORE_ASKED,
    Article,
    ArticleError,
    ArticleIndex,
    load_articles,
    parse_article,
    sentence_encoder,
    spacy_lemmatizer,
    split_passages,
)
from tools.evaluation import HELDOUT_OUT_OF_SCOPE, load_examples
from tools.serve import ROOT

HELDOUT = Path(__file__).parent / "heldout_questions.yml"
MIN_TOP1 = 0.95
MIN_OFF_TOPIC_REJECTED = 0.80


@pytest.fixture(scope="module")
def index() -> ArticleIndex:
    return ArticleIndex(load_articles(), spacy_lemmatizer(), sentence_encoder())


def heldout() -> list[dict[str, str]]:
    return yaml.safe_load(HELDOUT.read_text())["questions"]


def test_every_article_is_well_formed() -> None:
    articles = load_articles()
    assert len(articles) >= 30
    for article in articles:
        assert len(split_passages(article)) >= 3, article.slug


def test_front_matter_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "wrong-name.md"
    bad.write_text("---\ntitle: T\nslug: other\ntags: [a]\n---\nbody\n")
    with pytest.raises(ArticleError, match=r"wrong-name\.md.*must equal"):
        parse_article(bad)
    bad.write_text("no front matter")
    with pytest.raises(ArticleError, match="front matter"):
        parse_article(bad)


def test_sections_become_passages_with_headings() -> None:
    article = Article("a", "Title", ("t",), "Intro text.\n\n## First\nOne.\n\n## Second\nTwo.\n")
    passages = split_passages(article)
    assert [(p.heading, p.text) for p in passages] == [
        ("Title", "Intro text."),
        ("First", "One."),
        ("Second", "Two."),
    ]


def test_heldout_questions_target_real_articles() -> None:
    slugs = {a.slug for a in load_articles()}
    questions = heldout()
    assert len(questions) >= 40
    assert {q["slug"] for q in questions} <= slugs


def test_heldout_top1(index: ArticleIndex) -> None:
    """The right article is answered for product questions the NLU routed to the search."""
    questions = heldout()
    misses = [
        (q["text"], q["slug"], hit.passage.article.slug if hit else None)
        for q in questions
        if (hit := index.search(q["text"], MIN_SCORE_ASKED)) is None
        or hit.passage.article.slug != q["slug"]
    ]
    top1 = 1 - len(misses) / len(questions)
    assert top1 >= MIN_TOP1, "\n".join(map(str, misses))


def test_off_topic_messages_mostly_find_nothing(index: ArticleIndex) -> None:
    """When the search is the fallback, off-topic messages must not get an article."""
    off_topic = [e.text for e in load_examples(HELDOUT_OUT_OF_SCOPE)]
    answered = [text for text in off_topic if index.search(text, MIN_SCORE) is not None]
    assert index.search("asdf qwerty zxcv", MIN_SCORE) is None
    assert 1 - len(answered) / len(off_topic) >= MIN_OFF_TOPIC_REJECTED, answered


def test_answer_is_short_and_links_the_article(index: ArticleIndex) -> None:
    hit = index.search("how do I wash my down jacket", min_score=MIN_SCORE)
    assert hit is not None
    answer = format_answer(hit)
    body, link = answer.rsplit("\n\n", 1)
    assert len(body) <= MAX_ANSWER_CHARS + 1
    assert link.endswith(f"({hit.passage.article.url})")


def test_the_index_follows_the_published_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The studio points LIVE_ARTICLES at each published version's articles; the next
    search reads them, without restarting the action server."""
    from actions import knowledge
    from actions.settings import settings

    first, second = tmp_path / "v1", tmp_path / "v2"
    shutil.copytree(ROOT / "data/articles", first)
    shutil.copytree(first, second)
    with (second / "gift-cards.md").open("a") as article:
        article.write("\n## Can I melt a gift card into a canoe paddle?\nOnly in spirit.\n")
    link = tmp_path / "live-articles"
    monkeypatch.setenv("LIVE_ARTICLES", str(link))
    settings.cache_clear()
    try:
        before = knowledge.get_index()  # no link yet: data/articles
        assert knowledge.articles_dir() == knowledge.ARTICLES_DIR
        link.symlink_to(first)
        assert knowledge.get_index() is not before  # another folder, if the same text
        link.unlink()
        link.symlink_to(second)
        hit = knowledge.get_index().search("melt a gift card into a canoe paddle")
        assert hit is not None and hit.passage.text == "Only in spirit."
        assert knowledge.get_index() is knowledge.get_index()  # unchanged: built once
    finally:
        settings.cache_clear()
