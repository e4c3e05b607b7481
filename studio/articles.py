"""Help articles as editors keep them: title, slug, tags, Markdown, and the bot's quotes.

An article is ``data/articles/<slug>.md`` (``contracts.articles``). The studio shows each
passage the search can answer with exactly as the bot will quote it, checks the front
matter before writing, and, like the FAQs, refuses an edit based on an older version of
the file. A new slug renames the file and rewrites the help-centre links to it in the FAQ
answers and the other articles, so no link goes dead.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contracts.articles import (
    SLUG_PATTERN,
    Article,
    ArticleError,
    parse_text,
    quote,
    split_passages,
)
from contracts.understanding import ARTICLE_LINK_PREFIX
from studio.files import ContentError, locked, write_all
from studio.text import one_line, printable

ARTICLES_DIR = "data/articles"
RESPONSES_FILE = "data/faq/responses.yml"
TITLE_LIMIT = 120
BODY_LIMIT = 20_000
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9 -]{0,39}$")
MAX_TAGS = 12
_YAML_SPECIAL = re.compile(r"[:#\[\]{},&*!|>'\"%@`]|^[-?\s]|\s$")


@dataclass(frozen=True)
class ArticleFile:
    """One article file as the studio shows it."""

    article: Article
    file: str
    source: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:12]

    def as_dict(self, with_body: bool = False) -> dict[str, Any]:
        found: dict[str, Any] = {
            "slug": self.article.slug,
            "title": self.article.title,
            "tags": list(self.article.tags),
            "file": self.file,
            "sections": len(split_passages(self.article)),
            "version": self.version,
        }
        if with_body:
            found["body"] = self.article.body
            found["passages"] = passages(self.article)
        return found


def passages(article: Article) -> list[dict[str, str]]:
    """Every passage the search can answer with, and the bot's answer for it."""
    return [
        {"heading": p.heading, "text": p.text, "answer": quote(p)} for p in split_passages(article)
    ]


def render(title: str, slug: str, tags: Sequence[str], body: str) -> str:
    """An article file: front matter in the house layout, then the Markdown body."""
    tag_list = ", ".join(_scalar(t) for t in tags)
    text = body.replace("\r\n", "\n").strip("\n") + "\n"
    return f"---\ntitle: {_scalar(title)}\nslug: {_scalar(slug)}\ntags: [{tag_list}]\n---\n{text}"


def _scalar(value: str) -> str:
    """A YAML scalar: bare when it reads back as the same string ("Yes" would read as
    true, "0123" as a number), else double-quoted."""
    if _YAML_SPECIAL.search(value) or _reads_as(value) != value:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML one too
    return value


def _reads_as(value: str) -> Any:
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return None


def checked(title: str, slug: str, tags: Sequence[str], body: str) -> Article:
    """The article as it would be written, or ContentError naming what is wrong."""
    title = one_line(title)
    body = printable(str(body), keep="\n\t")
    if not title:
        raise ContentError("empty_title", "the article needs a title")
    if len(title) > TITLE_LIMIT:
        raise ContentError("title_too_long", f"the title is longer than {TITLE_LIMIT} characters")
    if not SLUG_PATTERN.match(slug):
        raise ContentError(
            "invalid_slug", f"'{slug}' is not a valid slug: a-z, 0-9 and -, up to 80 long"
        )
    cleaned = [one_line(t).lower() for t in tags]
    if not cleaned:
        raise ContentError("no_tags", "the article needs at least one tag")
    bad = [t for t in cleaned if not TAG_PATTERN.match(t)]
    if bad:
        raise ContentError("invalid_tag", f"'{bad[0]}' is not a tag: a-z, 0-9, - and spaces")
    if len(cleaned) > MAX_TAGS or len(set(cleaned)) != len(cleaned):
        raise ContentError("bad_tags", f"up to {MAX_TAGS} different tags")
    if not str(body).strip():
        raise ContentError("empty_body", "the article has no text")
    if len(body) > BODY_LIMIT:
        raise ContentError("body_too_long", f"the article is longer than {BODY_LIMIT} characters")
    try:
        article = parse_text(render(title, slug, cleaned, body), f"{slug}.md")
    except ArticleError as error:
        raise ContentError("invalid_article", str(error)) from None
    if (article.title, article.slug, list(article.tags)) != (title, slug, cleaned):
        raise ContentError("invalid_article", "the title, slug or tags would not read back")
    return article


class Articles:
    """The help articles under a content root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, slug: str) -> Path:
        return self.root / ARTICLES_DIR / f"{slug}.md"

    def all(self) -> list[ArticleFile]:
        """Every article that reads; a malformed one is the lint's to report."""
        found = []
        for path in sorted((self.root / ARTICLES_DIR).glob("*.md")):
            try:
                found.append(self._read(path))
            except ArticleError:
                continue
        return found

    def _read(self, path: Path) -> ArticleFile:
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(self.root).as_posix()
        return ArticleFile(parse_text(source, name), name, source)

    def get(self, slug: str) -> ArticleFile:
        path = self._path(slug)
        if not SLUG_PATTERN.match(slug) or not path.is_file():
            raise ContentError("unknown_article", f"there is no help article '{slug}'")
        try:
            return self._read(path)
        except ArticleError as error:
            raise ContentError("invalid_article", str(error)) from None

    def save(
        self, slug: str, version: str, title: str, new_slug: str, tags: Sequence[str], body: str
    ) -> ArticleFile:
        """Write an edited article, unless someone changed it after ``version``."""
        with locked(self.root):
            current = self.get(slug)
            if current.version != version:
                raise ContentError(
                    "stale_edit",
                    f"Someone changed the article '{slug}' after you opened it. Nothing was "
                    "saved: compare with their version, then save again.",
                    {"current": current.as_dict(with_body=True)},
                )
            article = checked(title, new_slug, tags, body)
            texts: dict[str, str | None] = {
                f"{ARTICLES_DIR}/{new_slug}.md": render(
                    article.title, new_slug, article.tags, article.body
                )
            }
            if new_slug != slug:  # the new file and the links first; the old file last
                self._check_free(new_slug)
                texts.update(self._relinked(slug, new_slug))
                texts[current.file] = None
            write_all(self.root, texts)
            return self.get(new_slug)

    def create(self, title: str, slug: str, tags: Sequence[str], body: str) -> ArticleFile:
        with locked(self.root):
            article = checked(title, slug, tags, body)
            self._check_free(slug)
            write_all(
                self.root,
                {
                    f"{ARTICLES_DIR}/{slug}.md": render(
                        article.title, slug, article.tags, article.body
                    )
                },
            )
            return self.get(slug)

    def _check_free(self, slug: str) -> None:
        if self._path(slug).exists():
            raise ContentError("slug_taken", f"there is already an article '{slug}'")

    def _relinked(self, old: str, new: str) -> dict[str, str | None]:
        """Every file linking the old slug, with its links pointing at the new one."""
        link = re.compile(re.escape(f"({ARTICLE_LINK_PREFIX}{old})"))
        names = [RESPONSES_FILE] + [a.file for a in self.all() if a.article.slug != old]
        texts: dict[str, str | None] = {}
        for name in names:
            path = self.root / name
            source = path.read_text(encoding="utf-8") if path.exists() else ""
            changed = link.sub(f"({ARTICLE_LINK_PREFIX}{new})", source)
            if changed != source:
                texts[name] = changed
        return texts
