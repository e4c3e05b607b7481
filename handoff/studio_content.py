"""The studio's FAQ and article editing: each change written into data/ and audited by name.

The content itself is ``studio``'s (``studio.faqs``, ``studio.articles``, ``studio.sheet``,
``studio.lint``); this module runs it in a thread, one writer of data/ at a time (the same
lock the labels take), maps its refusals to the API's errors (a stale edit is a 409 that
carries the content as it is now), and writes each change into the audit log with the
editor's name. A change goes live the way a label does: check, then publish.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.engine import Row

from handoff.checks import keep_baseline
from handoff.errors import ApiError, BadRequest, Conflict
from handoff.state import EDITING, SETTINGS
from handoff.studio import INBOX, unavailable
from studio.articles import Articles, checked, passages
from studio.faqs import Faqs
from studio.files import ContentError
from studio.lint import Draft, lint
from studio.sheet import export_csv, import_sheet

T = TypeVar("T")
USAGE_DAYS = 30
STALE = ("stale_edit", "stale_import")


def _root(app: web.Application) -> Path:
    return Path(app[SETTINGS].content_dir)


def api_error(error: ContentError, missing: tuple[str, ...] = ()) -> ApiError:
    """A refusal of ``studio`` as the API says it; ``missing``: the codes that mean the
    path named nothing (a 404)."""
    message = error.message[:1].upper() + error.message[1:]
    message += "" if message.endswith((".", ":")) else "."
    if error.code in STALE:
        return Conflict(error.code, error.message, error.detail)
    if error.code in missing:
        return ApiError(404, "not_found", message)
    if error.code == "unreadable_file":  # a developer's to mend, not the editor's
        return ApiError(503, "content_unreadable", message)
    return BadRequest(error.code, message)


async def _read(app: web.Application, work: Callable[[], T], missing: tuple[str, ...] = ()) -> T:
    """Run ``work`` on the content in a thread; a content folder that fails is a 503."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, work)
    except ContentError as error:
        raise api_error(error, missing) from None
    except OSError as error:
        raise unavailable(app, error) from error


async def _change(
    app: web.Application,
    editor: Row,
    action: str,
    work: Callable[[], T],
    detail: Callable[[T], dict[str, Any]],
    missing: tuple[str, ...] = (),
) -> T:
    """Write one change, one writer at a time, then audit it with the editor's name."""
    settings = app[SETTINGS]
    async with app[INBOX].write_lock:
        await _read(
            app, lambda: keep_baseline(Path(settings.content_dir), Path(settings.studio_dir))
        )
        result = await _read(app, work, missing)
    await app[EDITING].audit_change(editor, action, detail(result))
    return result


# ---------------------------------------------------------------------- FAQs


async def faqs(app: web.Application, query: str = "") -> dict[str, Any]:
    """Every FAQ with how often it answered customers lately and how they rated it."""
    found = await _read(app, Faqs(_root(app)).all)
    usage = await app[EDITING].faq_usage(USAGE_DAYS)
    words = query.casefold().split()
    rows = []
    for faq in found:
        haystack = " ".join([faq.key, faq.answer, *(p.text for p in faq.phrases)]).casefold()
        if all(word in haystack for word in words):
            rows.append({**_summary(faq.as_dict()), **usage.get(faq.name, _NO_USE)})
    return {"faqs": rows, "days": USAGE_DAYS, "total": len(found)}


_NO_USE = {"answered": 0, "rated": 0, "unhelpful": 0}


def _summary(faq: dict[str, Any]) -> dict[str, Any]:
    phrases = faq.pop("phrases")
    return {**faq, "phrase_count": len(phrases)}


async def faq(app: web.Application, key: str) -> dict[str, Any]:
    return (await _read(app, lambda: Faqs(_root(app)).get(key), ("unknown_faq",))).as_dict()


def _draft_findings(root: Path, draft: Draft) -> list[dict[str, Any]]:
    return [f.as_dict() for f in lint(root, draft)]


async def check_faq(app: web.Application, data: dict[str, Any]) -> dict[str, Any]:
    """The checks on an FAQ as the editor is typing it."""
    draft = Draft(
        data["key"], data.get("answer", ""), data.get("article") or None, tuple(data["phrases"])
    )
    return {"findings": await _read(app, lambda: _draft_findings(_root(app), draft))}


async def create_faq(app: web.Application, editor: Row, data: dict[str, Any]) -> dict[str, Any]:
    store = Faqs(_root(app))
    created = await _change(
        app,
        editor,
        "faq_created",
        lambda: store.create(
            data["key"], data["answer"], data.get("article") or None, data["phrases"]
        ),
        lambda faq: {"faq": faq.name, "phrases": len(faq.phrases), "version": faq.version},
    )
    return created.as_dict()


async def save_faq(
    app: web.Application, editor: Row, key: str, data: dict[str, Any]
) -> dict[str, Any]:
    store = Faqs(_root(app))
    before = await _read(app, lambda: store.get(key), ("unknown_faq",))
    saved = await _change(
        app,
        editor,
        "faq_edited",
        lambda: store.save(
            key, data["version"], data["answer"], data.get("article") or None, data["phrases"]
        ),
        lambda faq: _edit_detail(before.as_dict(), faq.as_dict()),
    )
    return saved.as_dict()


def _edit_detail(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What an edit changed, for the audit log: the answer, phrases in and out."""
    old = {p["text"] for p in before["phrases"]}
    new = {p["text"] for p in after["phrases"]}
    detail: dict[str, Any] = {"faq": after["name"], "version": after["version"]}
    if before["text"] != after["text"]:
        detail["answer"] = {"before": before["text"], "after": after["text"]}
    if new - old:
        detail["phrases_added"] = sorted(new - old)
    if old - new:
        detail["phrases_removed"] = sorted(old - new)
    return detail


async def rename_faq(
    app: web.Application, editor: Row, key: str, data: dict[str, Any]
) -> dict[str, Any]:
    store = Faqs(_root(app))
    renamed = await _change(
        app,
        editor,
        "faq_renamed",
        lambda: store.rename(key, data["version"], data["key"]),
        lambda faq: {"faq": f"faq/{key}", "renamed_to": faq.name},
        ("unknown_faq",),
    )
    return renamed.as_dict()


async def retire_faq(
    app: web.Application, editor: Row, key: str, data: dict[str, Any]
) -> dict[str, Any]:
    store = Faqs(_root(app))
    return await _change(
        app,
        editor,
        "faq_retired",
        lambda: store.retire(key, data["version"], data["destination"]),
        lambda result: {"faq": f"faq/{key}", **result},
        ("unknown_faq",),
    )


# ---------------------------------------------------------------------- sheets


def _sheet_bytes(data: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(data["content"], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("invalid_sheet", "The sheet's content is not base64.") from None


async def import_faqs(app: web.Application, editor: Row, data: dict[str, Any]) -> dict[str, Any]:
    """A sheet's dry run, or with ``apply`` its import (audited) of every good row."""
    raw = _sheet_bytes(data)
    root = _root(app)
    if not data.get("apply"):
        report = await _read(app, lambda: import_sheet(root, raw, data["filename"], False))
        return report.as_dict()
    if "version" not in data:
        raise BadRequest(
            "missing_version",
            "Apply names the version its dry run reported ('version'), so that a sheet is "
            "never applied to FAQs that changed since.",
        )
    applied = await _change(
        app,
        editor,
        "faqs_imported",
        lambda: import_sheet(root, raw, data["filename"], True, data.get("version")),
        lambda report: {"sheet": data["filename"], **report.counts(), "files": report.files},
    )
    return applied.as_dict()


async def export_faqs(app: web.Application) -> str:
    return await _read(app, lambda: export_csv(_root(app)))


# ---------------------------------------------------------------------- articles


async def articles(app: web.Application) -> dict[str, Any]:
    found = await _read(app, Articles(_root(app)).all)
    return {"articles": [a.as_dict() for a in found]}


async def article(app: web.Application, slug: str) -> dict[str, Any]:
    found = await _read(app, lambda: Articles(_root(app)).get(slug), ("unknown_article",))
    return found.as_dict(with_body=True)


async def preview_article(app: web.Application, data: dict[str, Any]) -> dict[str, Any]:
    """The passages the bot would answer with, before the article is saved."""

    def work() -> dict[str, Any]:
        found = checked(data["title"], data["slug"], data["tags"], data["body"])
        return {"passages": passages(found)}

    return await _read(app, work)


async def save_article(
    app: web.Application, editor: Row, slug: str, data: dict[str, Any]
) -> dict[str, Any]:
    store = Articles(_root(app))
    saved = await _change(
        app,
        editor,
        "article_edited",
        lambda: store.save(
            slug, data["version"], data["title"], data["slug"], data["tags"], data["body"]
        ),
        lambda found: {"article": slug, "slug": found.article.slug, "version": found.version},
        ("unknown_article",),
    )
    return saved.as_dict(with_body=True)


async def create_article(app: web.Application, editor: Row, data: dict[str, Any]) -> dict[str, Any]:
    store = Articles(_root(app))
    created = await _change(
        app,
        editor,
        "article_created",
        lambda: store.create(data["title"], data["slug"], data["tags"], data["body"]),
        lambda found: {"article": found.article.slug, "version": found.version},
    )
    return created.as_dict(with_body=True)


async def content_checks(app: web.Application) -> dict[str, Any]:
    """Every finding in the content, errors first."""
    found = await _read(app, lambda: lint(_root(app)))
    return {"findings": [f.as_dict() for f in found]}
