"""A help article's file format and how the bot quotes it, for the bot and the studio.

An article is ``data/articles/<slug>.md``: front matter between ``---`` lines (title, slug,
tags), then Markdown. The search answers with one passage, the intro or a ``##`` section
(``split_passages``), cut to ``MAX_ANSWER_CHARS`` and linked (``quote``). The studio shows
editors the same passages, quoted the same way, before they publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts.understanding import ARTICLE_LINK_PREFIX

HELP_URL = ARTICLE_LINK_PREFIX + "{slug}"
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_ANSWER_CHARS = 600


@dataclass(frozen=True)
class Article:
    """One help-centre article, as an editor wrote it."""

    slug: str
    title: str
    tags: tuple[str, ...]
    body: str

    @property
    def url(self) -> str:
        return HELP_URL.format(slug=self.slug)


@dataclass(frozen=True)
class Passage:
    """A self-contained piece of an article: the intro or one section."""

    article: Article
    heading: str
    text: str


class ArticleError(ValueError):
    """An article file an editor wrote is malformed; the message says where and why."""


def parse_article(path: Path) -> Article:
    """Read one article file and check its front matter."""
    article = parse_text(path.read_text(encoding="utf-8"), str(path))
    if article.slug != path.stem:
        raise ArticleError(f"{path}: slug '{article.slug}' must equal the file name '{path.stem}'")
    return article


def parse_text(raw: str, where: str) -> Article:
    """An article from its file's text; ``where`` names it in the error."""
    match = FRONT_MATTER.match(raw)
    if not match:
        raise ArticleError(f"{where}: must start with front matter between '---' lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise ArticleError(f"{where}: the front matter is not valid YAML ({error})") from None
    if not isinstance(meta, dict):
        raise ArticleError(f"{where}: the front matter must be 'key: value' lines")
    missing = [key for key in ("title", "slug", "tags") if not meta.get(key)]
    if missing:
        raise ArticleError(f"{where}: front matter lacks {', '.join(missing)}")
    tags = meta["tags"] if isinstance(meta["tags"], list) else [meta["tags"]]
    return Article(str(meta["slug"]), str(meta["title"]), tuple(map(str, tags)), raw[match.end() :])


def split_passages(article: Article) -> list[Passage]:
    """The intro (under the article title) and each ``##`` section of an article."""
    intro, *sections = re.split(r"^## +", article.body.strip(), flags=re.MULTILINE)
    passages = [Passage(article, article.title, intro.strip())] if intro.strip() else []
    for section in sections:
        heading, _, text = section.partition("\n")
        passages.append(Passage(article, heading.strip(), text.strip()))
    return passages


def quote(passage: Passage) -> str:
    """What the bot says for a passage: cut at a sentence end if long, and a link."""
    text = passage.text
    if len(text) > MAX_ANSWER_CHARS:
        cut = text.rfind(". ", 0, MAX_ANSWER_CHARS)
        text = text[: cut + 1] if cut > 0 else text[:MAX_ANSWER_CHARS] + "…"
    article = passage.article
    return f"{text}\n\nMore in our help centre: [{article.title}]({article.url})"
