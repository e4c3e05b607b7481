"""The studio's inbox and labels: misses grouped by topic, labelled a topic at a time.

Clustering runs in a thread over the open misses (``studio.clusters``) whenever the inbox
changed, and the inbox answers from the latest grouping meanwhile, so it stays fast with
thousands of messages. Labels are written into ``data/`` in Rasa's own format
(``studio.content``), one writer at a time; the misses are claimed in the database
first, so a second editor labelling the same cluster is told and nothing is written twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Row

from bot.encoder import EncoderError, Remembered
from bot.encoder import shared as shared_encoder
from handoff.checks import keep_baseline
from handoff.db.unit import iso
from handoff.errors import ApiError, BadRequest
from handoff.state import EDITING, SETTINGS
from studio.clusters import Cluster, Encode, cluster
from studio.content import Content, ContentError

logger = logging.getLogger(__name__)
SHOWN_MEMBERS = 25  # messages shown per cluster unless asked; all of them are labelled
MAX_MEMBERS = 500


@dataclass
class Inbox:
    """The latest grouping of the open misses, and whether a newer one is being made."""

    version: tuple[int, int] = (-1, -1)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    computed_at: str | None = None
    refreshing: asyncio.Task[None] | None = None
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    encode: Encode | None = None
    encoder_loading: asyncio.Future[Encode | None] | None = None


INBOX = web.AppKey("inbox", Inbox)


def content(app: web.Application) -> Content:
    return Content(Path(app[SETTINGS].content_dir))


async def inbox(
    app: web.Application, limit: int = 50, members: int = SHOWN_MEMBERS
) -> dict[str, Any]:
    """The open misses by topic, largest first, with up to ``members`` messages each (all
    their ids); regrouped in the background when stale."""
    state = app[INBOX]
    version = await app[EDITING].inbox_version()
    stale = version != state.version
    if stale and (state.refreshing is None or state.refreshing.done()):
        state.refreshing = asyncio.create_task(_regroup(app, version))
    if state.computed_at is None and state.refreshing is not None:
        await asyncio.shield(state.refreshing)  # the first grouping: nothing to show yet
        stale = app[INBOX].version != version
    shown = [{**c, "messages": c["messages"][:members]} for c in state.clusters[:limit]]
    return {
        "clusters": shown,
        "total_clusters": len(state.clusters),
        "total_messages": version[1],
        "computed_at": state.computed_at,
        "stale": stale,
        "grouping": "words" if state.encode is None else "sentence encoder",
    }


async def _regroup(app: web.Application, version: tuple[int, int]) -> None:
    editing, state = app[EDITING], app[INBOX]
    rows = await editing.open_misses()
    ignored = await editing.ignored_texts()
    texts = [row.text for row in rows]
    loop = asyncio.get_running_loop()
    try:
        encode = await asyncio.shield(load_encoder(app))
        groups = await loop.run_in_executor(None, cluster, texts, ignored, None, encode)
    except Exception:
        logger.exception("grouping %d misses failed", len(texts))
        return
    joined = [rows[i].id for group in groups if group.ignored for i in group.members]
    if joined:  # similar to what an editor ignored before: ignored too
        await editing.ignore_alike(joined)
    shown = [_cluster(group, rows) for group in groups if not group.ignored]
    state.version, state.clusters = version, shown
    state.computed_at = iso(app[EDITING].store.clock())


def load_encoder(app: web.Application) -> asyncio.Future[Encode | None]:
    """The sentence encoder, loading in a worker thread from the first call on (seconds):
    an editor who signs in starts it, before the page asks for the inbox."""
    state = app[INBOX]
    if state.encoder_loading is None:
        loop = asyncio.get_running_loop()
        state.encoder_loading = loop.run_in_executor(None, _load_encoder, state)
    return state.encoder_loading


def _load_encoder(state: Inbox) -> Encode | None:
    """Words only if it cannot load. Whatever the failure: the future is shared by every
    regrouping, and one that raised would leave the inbox ungrouped for good."""
    try:
        # One thread: the service's chats keep the other cores while the inbox groups.
        state.encode = Remembered(shared_encoder(threads=1).encode)
    except (EncoderError, ImportError, OSError) as error:
        logger.error("grouping the inbox by words: the sentence encoder failed: %s", error)
    except Exception:
        logger.exception("grouping the inbox by words: the sentence encoder failed")
    return state.encode


def _cluster(group: Cluster, rows: list[Row]) -> dict[str, Any]:
    members = [rows[i] for i in group.members]
    guesses = Counter(str(r.ranking[0][0]) for r in members if r.ranking)
    reasons = Counter(reason for r in members for reason in r.reasons)
    guess = None
    if guesses:
        name, _ = guesses.most_common(1)[0]
        sure = [float(r.ranking[0][1]) for r in members if r.ranking and r.ranking[0][0] == name]
        guess = {
            "name": name,
            "confidence": round(sum(sure) / len(sure), 3),
            "share": len(sure) / len(members),
        }
    times = [r.created_at for r in members]
    return {
        "id": f"m{min(r.id for r in members)}",
        "size": len(members),
        "terms": list(group.terms),
        "guess": guess,
        "reasons": dict(reasons.most_common()),
        "first_seen": iso(min(times)),
        "last_seen": iso(max(times)),
        "miss_ids": [r.id for r in members],
        "messages": [miss_dict(r) for r in members[:MAX_MEMBERS]],
    }


def miss_dict(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "text": row.text,
        "ranking": row.ranking,
        "reasons": row.reasons,
        "conversation_id": row.conversation_id,
        "seq": row.seq,
        "at": iso(row.created_at),
    }


async def miss(app: web.Application, miss_id: int) -> dict[str, Any]:
    """One miss with the turns around it."""
    row = await app[EDITING].miss(miss_id)
    around = await app[EDITING].around(row.conversation_id, row.seq)
    return {**miss_dict(row), "status": row.status, "around": around}


async def targets(app: web.Application) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    try:
        found = await loop.run_in_executor(None, content(app).targets)
    except OSError as error:
        raise unavailable(app, error) from error
    return [dataclasses.asdict(t) for t in found]


def unavailable(app: web.Application, error: OSError) -> ApiError:
    """The content folder cannot be read or written: say which, and log the detail."""
    logger.error("the studio's content folder failed: %s", error)
    folder = app[SETTINGS].content_dir
    return ApiError(
        503,
        "content_unavailable",
        f"The studio cannot use its content folder ({folder}, HANDOFF_CONTENT_DIR): "
        f"{error.strerror or error}.",
    )


async def label(app: web.Application, editor: Row, data: dict[str, Any]) -> dict[str, Any]:
    """Label misses: claim them, write the examples, keep what was written where."""
    miss_ids = sorted(set(data["miss_ids"]))
    action, target = data["action"], data.get("target")
    if action == "new_faq":
        if "faq" not in data:
            raise BadRequest("missing_faq", "A new FAQ needs its key and answer ('faq').")
        target = "faq/" + data["faq"]["key"]
    elif action == "out_of_scope":
        target = "out_of_scope"
    elif action in ("intent", "faq") and not target:
        raise BadRequest("missing_target", "Say which intent or FAQ these messages are.")
    editing = app[EDITING]
    label_id = await editing.claim(miss_ids, editor, action, target)
    try:
        detail = await _write(app, miss_ids, action, target, data.get("faq"))
    except ContentError as error:
        await editing.drop_label(label_id)
        raise BadRequest(error.code, error.message) from None
    except OSError as error:
        await editing.drop_label(label_id)
        raise unavailable(app, error) from error
    except Exception:
        await editing.drop_label(label_id)
        raise
    detail = {"action": action, "target": target, "messages": len(miss_ids), **detail}
    await editing.finish_label(label_id, editor, detail)
    return {"label_id": label_id, **detail}


async def _write(
    app: web.Application,
    miss_ids: list[int],
    action: str,
    target: str | None,
    faq: dict[str, Any] | None,
) -> dict[str, Any]:
    if action == "ignore":
        return {}
    texts = await app[EDITING].texts(miss_ids)
    files = content(app)
    loop = asyncio.get_running_loop()
    settings = app[SETTINGS]
    async with app[INBOX].write_lock:  # one writer of data/ at a time
        await loop.run_in_executor(
            None, keep_baseline, Path(settings.content_dir), Path(settings.studio_dir)
        )
        if action == "new_faq":
            if faq is None:
                raise BadRequest("missing_faq", "A new FAQ needs its key and answer.")
            written = await loop.run_in_executor(
                None, files.new_faq, faq["key"], faq["answer"], faq.get("article"), texts
            )
        else:
            written = await loop.run_in_executor(None, files.add_examples, str(target), texts)
    return {"written": dataclasses.asdict(written)}
