"""Editing help articles on a copy of the content: the text, the front matter, the slug."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.articles import Articles, render
from studio.files import ContentError
from studio.lint import lint
from tests.helpers.content import changed_lines, files

SECTION = (
    "## Can I get a refund in cash?\nNo: refunds go back to the card or account you paid with.\n"
)


def test_every_shipped_article_renders_back_to_its_file(content_root: Path) -> None:
    articles = Articles(content_root).all()
    assert len(articles) == len(list((content_root / "data/articles").glob("*.md")))
    for found in articles:
        a = found.article
        assert render(a.title, a.slug, a.tags, a.body) == found.source, found.file


def test_an_edited_section_changes_only_its_lines_and_is_quoted_as_the_bot_will(
    content_root: Path,
) -> None:
    store = Articles(content_root)
    refunds = store.get("refunds")
    body = refunds.article.body + "\n" + SECTION
    before = files(content_root)
    saved = store.save("refunds", refunds.version, "Refunds", "refunds", refunds.article.tags, body)
    after = files(content_root)
    assert [n for n in after if after[n] != before[n]] == ["data/articles/refunds.md"]
    removed, added = changed_lines(
        before["data/articles/refunds.md"], after["data/articles/refunds.md"]
    )
    assert removed == [] and added == ["", *SECTION.splitlines()]
    passage = saved.as_dict(with_body=True)["passages"][-1]
    assert passage["heading"] == "Can I get a refund in cash?"
    assert passage["answer"] == (
        "No: refunds go back to the card or account you paid with.\n\n"
        "More in our help centre: [Refunds](https://larkspur-outdoor.example/help/refunds)"
    )


def test_a_new_slug_renames_the_file_and_every_link_to_it(content_root: Path) -> None:
    store = Articles(content_root)
    old = store.get("returns-policy")
    linking = (content_root / "data/faq/responses.yml").read_text().count("/help/returns-policy)")
    assert linking > 0
    store.save(
        "returns-policy", old.version, "Returns", "returns", old.article.tags, old.article.body
    )
    assert not (content_root / "data/articles/returns-policy.md").exists()
    responses = (content_root / "data/faq/responses.yml").read_text()
    assert "/help/returns-policy)" not in responses
    assert responses.count("/help/returns)") == linking
    assert [f for f in lint(content_root) if f.code == "dead_link"] == []


def test_an_edit_based_on_an_older_version_is_refused(content_root: Path) -> None:
    store = Articles(content_root)
    opened = store.get("gift-cards")
    a = opened.article
    store.save("gift-cards", opened.version, "Gift cards and e-gift cards", a.slug, a.tags, a.body)
    with pytest.raises(ContentError) as raised:
        store.save("gift-cards", opened.version, "Gift vouchers", a.slug, a.tags, a.body)
    assert raised.value.code == "stale_edit"
    assert raised.value.detail["current"]["title"] == "Gift cards and e-gift cards"


@pytest.mark.parametrize(
    ("title", "slug", "tags", "body", "code"),
    [
        ("", "gift-cards", ["gift"], "Text.", "empty_title"),
        ("Gift cards", "Gift Cards", ["gift"], "Text.", "invalid_slug"),
        ("Gift cards", "gift-cards", [], "Text.", "no_tags"),
        ("Gift cards", "gift-cards", ["gift", "Gift"], "Text.", "bad_tags"),
        ("Gift cards", "gift-cards", ["gift!"], "Text.", "invalid_tag"),
        ("Gift cards", "gift-cards", ["gift"], "  ", "empty_body"),
        ("Gift cards", "refunds", ["gift"], "Text.", "slug_taken"),
    ],
)
def test_the_front_matter_is_checked_before_writing(
    content_root: Path, title: str, slug: str, tags: list[str], body: str, code: str
) -> None:
    store = Articles(content_root)
    opened = store.get("gift-cards")
    before = files(content_root)
    with pytest.raises(ContentError) as raised:
        store.save("gift-cards", opened.version, title, slug, tags, body)
    assert raised.value.code == code
    assert files(content_root) == before


def test_a_title_that_needs_quotes_reads_back(content_root: Path) -> None:
    created = Articles(content_root).create(
        "Rentals: how they work", "rentals", ["rental", "hire"], "We rent tents.\n"
    )
    assert created.article.title == "Rentals: how they work"
    assert created.source.splitlines()[1] == 'title: "Rentals: how they work"'


def test_values_yaml_would_read_as_something_else_are_quoted(content_root: Path) -> None:
    created = Articles(content_root).create("Yes", "on", ["no", "0123"], "We do.\n")
    assert (created.article.title, created.article.slug) == ("Yes", "on")
    assert created.article.tags == ("no", "0123")
    assert [f for f in lint(content_root) if f.level == "error"] == []
