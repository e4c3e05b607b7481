"""The studio's data: what the bot understood, feedback, misses, labels, checks, versions.

A miss is a customer message the bot probably got wrong (``handoff.misses`` says why).
Labelling claims its misses in one transaction, so two editors labelling the same
cluster at once cannot both write it: the second is told who was first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Row

from handoff.db import Store
from handoff.db.tables import (
    agents,
    audit_log,
    checks,
    feedback,
    labels,
    messages,
    misses,
    versions,
)
from handoff.db.unit import iso
from handoff.errors import Conflict, NotFound

OPEN, LABELLED, IGNORED = "open", "labelled", "ignored"
CHECK_WAITING = ("queued", "running")


class Editing:
    """Queries and changes behind the studio, over the service's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- what the bot understood, and what the customer thought of it ------------

    async def understood(
        self, conversation_id: str, seq: int, understanding: dict[str, Any]
    ) -> None:
        async with self.store.write() as connection:
            await connection.execute(
                messages.update()
                .where(messages.c.conversation_id == conversation_id, messages.c.seq == seq)
                .values(understanding=understanding)
            )

    async def customer_turns(self, conversation_id: str, up_to: int, count: int = 2) -> list[Row]:
        """The customer's last ``count`` messages up to ``up_to``, newest first."""
        query = (
            select(messages)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.speaker == "customer",
                messages.c.seq <= up_to,
            )
            .order_by(messages.c.seq.desc())
            .limit(count)
        )
        async with self.store.read() as connection:
            return list((await connection.execute(query)).all())

    async def rate_answer(self, conversation_id: str, seq: int, helpful: bool) -> Row:
        """Keep the customer's 👍/👎 on a bot answer (a second press changes it); the
        customer message it answered, which a 👎 makes a miss."""
        async with self.store.write() as connection:
            answer = (
                await connection.execute(
                    select(messages).where(
                        messages.c.conversation_id == conversation_id, messages.c.seq == seq
                    )
                )
            ).first()
            if (
                answer is None
                or answer.speaker != "bot"
                or not (answer.payload or {}).get("answer")
            ):
                raise NotFound("answer to rate")
            asked = (
                await connection.execute(
                    select(messages)
                    .where(
                        messages.c.conversation_id == conversation_id,
                        messages.c.speaker == "customer",
                        messages.c.seq < seq,
                    )
                    .order_by(messages.c.seq.desc())
                    .limit(1)
                )
            ).first()
            if asked is None:
                raise NotFound("question this answer answered")
            values = {"helpful": helpful, "created_at": self.store.clock()}
            changed = await connection.execute(
                feedback.update()
                .where(feedback.c.conversation_id == conversation_id, feedback.c.seq == seq)
                .values(**values)
            )
            if not changed.rowcount:
                await connection.execute(
                    feedback.insert().values(conversation_id=conversation_id, seq=seq, **values)
                )
        return asked

    async def ratings(self, conversation_id: str) -> dict[int, bool]:
        query = select(feedback.c.seq, feedback.c.helpful).where(
            feedback.c.conversation_id == conversation_id
        )
        async with self.store.read() as connection:
            return {r.seq: r.helpful for r in (await connection.execute(query)).all()}

    # --- misses -------------------------------------------------------------------

    async def record_miss(
        self,
        conversation_id: str,
        seq: int,
        text: str,
        reasons: Sequence[str],
        ranking: list[list[Any]],
    ) -> None:
        """Note a miss, or add reasons to one already noted."""
        now = self.store.clock()
        key = and_(misses.c.conversation_id == conversation_id, misses.c.seq == seq)
        async with self.store.write() as connection:
            known = (await connection.execute(select(misses).where(key))).first()
            if known is None:
                await connection.execute(
                    misses.insert().values(
                        conversation_id=conversation_id,
                        seq=seq,
                        text=text,
                        reasons=sorted(set(reasons)),
                        ranking=ranking,
                        status=OPEN,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif not set(reasons) <= set(known.reasons):
                merged = sorted(set(known.reasons) | set(reasons))
                await connection.execute(
                    misses.update().where(key).values(reasons=merged, updated_at=now)
                )

    async def open_misses(self, limit: int = 10_000) -> list[Row]:
        """Unlabelled misses, newest first."""
        query = select(misses).where(misses.c.status == OPEN).order_by(misses.c.id.desc())
        async with self.store.read() as connection:
            return list((await connection.execute(query.limit(limit))).all())

    async def ignored_texts(self, limit: int = 2_000) -> list[str]:
        query = (
            select(misses.c.text)
            .where(misses.c.status == IGNORED)
            .order_by(misses.c.id.desc())
            .limit(limit)
        )
        async with self.store.read() as connection:
            return [r.text for r in (await connection.execute(query)).all()]

    async def inbox_version(self) -> tuple[int, int]:
        """Changes whenever a miss is added or leaves the inbox: the clusters' cache key."""
        query = select(func.coalesce(func.max(misses.c.id), 0), func.count(misses.c.id)).where(
            misses.c.status == OPEN
        )
        async with self.store.read() as connection:
            newest, count = (await connection.execute(query)).one()
        return int(newest), int(count)

    async def texts(self, miss_ids: Sequence[int]) -> list[str]:
        query = select(misses.c.text).where(misses.c.id.in_(list(miss_ids))).order_by(misses.c.id)
        async with self.store.read() as connection:
            return [r.text for r in (await connection.execute(query)).all()]

    async def ignore_alike(self, miss_ids: Sequence[int]) -> None:
        """New misses like ones an editor ignored are ignored too."""
        async with self.store.write() as connection:
            await connection.execute(
                misses.update()
                .where(misses.c.id.in_(list(miss_ids)), misses.c.status == OPEN)
                .values(status=IGNORED, updated_at=self.store.clock())
            )

    async def miss(self, miss_id: int) -> Row:
        async with self.store.read() as connection:
            row = (await connection.execute(select(misses).where(misses.c.id == miss_id))).first()
        if row is None:
            raise NotFound("message in the inbox")
        return row

    async def around(self, conversation_id: str, seq: int, turns: int = 3) -> list[dict[str, Any]]:
        """The messages just before and after one, as the editor sees them."""
        query = (
            select(messages.c.seq, messages.c.speaker, messages.c.text, messages.c.created_at)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.seq.between(seq - turns, seq + turns),
            )
            .order_by(messages.c.seq)
        )
        async with self.store.read() as connection:
            rows = (await connection.execute(query)).all()
        return [
            {"seq": r.seq, "speaker": r.speaker, "text": r.text, "at": iso(r.created_at)}
            for r in rows
        ]

    # --- labels -------------------------------------------------------------------

    async def claim(
        self, miss_ids: Sequence[int], editor: Row, action: str, target: str | None
    ) -> int:
        """A label for these misses, if every one is still open; else 409, naming who
        labelled the others first, and nothing is claimed."""
        now = self.store.clock()
        status = IGNORED if action == "ignore" else LABELLED
        async with self.store.write() as connection:
            label_id = (
                await connection.execute(
                    labels.insert().values(
                        editor_id=editor.id,
                        action=action,
                        target=target,
                        detail={},
                        created_at=now,
                    )
                )
            ).inserted_primary_key[0]
            claimed = await connection.execute(
                update(misses)
                .where(misses.c.id.in_(list(miss_ids)), misses.c.status == OPEN)
                .values(status=status, label_id=label_id, updated_at=now)
            )
            if claimed.rowcount != len(set(miss_ids)):
                raise await self._taken(connection, miss_ids)
        return int(label_id)

    async def _taken(self, connection: Any, miss_ids: Sequence[int]) -> Conflict:
        query = (
            select(agents.c.name, func.count(misses.c.id).label("n"))
            .select_from(misses.join(labels, labels.c.id == misses.c.label_id))
            .join(agents, agents.c.id == labels.c.editor_id)
            .where(misses.c.id.in_(list(miss_ids)))
            .group_by(agents.c.name)
        )
        who = [f"{r.name} ({r.n})" for r in (await connection.execute(query)).all()]
        if not who:
            return Conflict("unknown_messages", "Some of these messages are not in the inbox.")
        return Conflict(
            "already_labelled",
            f"Someone labelled these messages first: {', '.join(who)}. Nothing was written; "
            "reload the inbox.",
        )

    async def finish_label(self, label_id: int, editor: Row, detail: dict[str, Any]) -> None:
        """The label's files are written: keep what went where, and audit it by name."""
        async with self.store.write() as connection:
            await connection.execute(
                labels.update().where(labels.c.id == label_id).values(detail=detail)
            )
            await self.audit(connection, editor, "label", {"label": label_id, **detail})

    async def drop_label(self, label_id: int) -> None:
        """Writing the files failed: the misses go back to the inbox."""
        async with self.store.write() as connection:
            await connection.execute(
                misses.update()
                .where(misses.c.label_id == label_id)
                .values(status=OPEN, label_id=None, updated_at=self.store.clock())
            )
            await connection.execute(labels.delete().where(labels.c.id == label_id))

    async def audit(
        self, connection: Any, editor: Row, action: str, detail: dict[str, Any]
    ) -> None:
        await connection.execute(
            audit_log.insert().values(
                actor=f"editor:{editor.name}"[:60],
                action=action,
                detail=detail,
                created_at=self.store.clock(),
            )
        )

    async def audit_change(self, editor: Row, action: str, detail: dict[str, Any]) -> None:
        """An edit of the content (an FAQ, an article, an import), by the editor's name."""
        async with self.store.write() as connection:
            await self.audit(connection, editor, action, detail)

    async def faq_usage(self, days: int) -> dict[str, dict[str, int]]:
        """Per FAQ (``faq/<key>``), over the last ``days``: how often the bot answered with
        it, how many of those answers customers rated, and how many they found unhelpful."""
        since = self.store.clock() - timedelta(days=days)
        query = (
            select(messages.c.payload, feedback.c.helpful)
            .select_from(
                messages.outerjoin(
                    feedback,
                    and_(
                        feedback.c.conversation_id == messages.c.conversation_id,
                        feedback.c.seq == messages.c.seq,
                    ),
                )
            )
            .where(
                messages.c.speaker == "bot",
                messages.c.created_at >= since,
                messages.c.payload.isnot(None),
            )
        )
        usage: dict[str, dict[str, int]] = {}
        async with self.store.read() as connection:
            for payload, helpful in (await connection.execute(query)).all():
                answer = (payload or {}).get("answer") or {}
                if answer.get("kind") != "faq" or not answer.get("key"):
                    continue
                counts = usage.setdefault(
                    answer["key"], {"answered": 0, "rated": 0, "unhelpful": 0}
                )
                counts["answered"] += 1
                counts["rated"] += helpful is not None
                counts["unhelpful"] += helpful is False
        return usage

    async def content_changes(self, limit: int = 100) -> list[dict[str, Any]]:
        """The studio's audit log: who changed what, newest first."""
        query = (
            select(audit_log)
            .where(audit_log.c.actor.like("editor:%"))
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        async with self.store.read() as connection:
            rows = (await connection.execute(query)).all()
        return [
            {
                "editor": r.actor.removeprefix("editor:"),
                "action": r.action,
                "detail": r.detail,
                "at": iso(r.created_at),
            }
            for r in rows
        ]

    # --- checks and versions --------------------------------------------------------

    async def add_check(self, editor: Row) -> tuple[int, int]:
        """A queued check: ``(check_id, checks ahead of it)``."""
        async with self.store.write() as connection:
            ahead = (
                await connection.execute(
                    select(func.count(checks.c.id)).where(checks.c.state.in_(CHECK_WAITING))
                )
            ).scalar_one()
            check_id = (
                await connection.execute(
                    checks.insert().values(
                        editor_id=editor.id,
                        state="queued",
                        stages=[],
                        created_at=self.store.clock(),
                    )
                )
            ).inserted_primary_key[0]
            await self.audit(connection, editor, "check", {"check": check_id})
        return int(check_id), int(ahead)

    async def next_check(self) -> int | None:
        query = select(checks.c.id).where(checks.c.state == "queued").order_by(checks.c.id).limit(1)
        async with self.store.read() as connection:
            return (await connection.execute(query)).scalar()

    async def update_check(self, check_id: int, **values: Any) -> None:
        async with self.store.write() as connection:
            await connection.execute(
                checks.update().where(checks.c.id == check_id).values(**values)
            )

    async def interrupted_checks(self) -> int:
        """At start-up: checks a stopped service left running failed; how many."""
        async with self.store.write() as connection:
            result = await connection.execute(
                checks.update()
                .where(checks.c.state == "running")
                .values(
                    state="failed",
                    error="The service stopped while this check ran; check again.",
                    finished_at=self.store.clock(),
                )
            )
        return int(result.rowcount)

    async def check(self, check_id: int) -> dict[str, Any]:
        query = select(checks, agents.c.name).join(agents, agents.c.id == checks.c.editor_id)
        async with self.store.read() as connection:
            row = (await connection.execute(query.where(checks.c.id == check_id))).first()
            if row is None:
                raise NotFound("check")
            ahead = 0
            if row.state == "queued":
                ahead = (
                    await connection.execute(
                        select(func.count(checks.c.id)).where(
                            checks.c.state.in_(CHECK_WAITING), checks.c.id < check_id
                        )
                    )
                ).scalar_one()
        return check_dict(row, int(ahead))

    async def recent_checks(self, limit: int = 20) -> list[dict[str, Any]]:
        query = (
            select(checks, agents.c.name)
            .join(agents, agents.c.id == checks.c.editor_id)
            .order_by(checks.c.id.desc())
            .limit(limit)
        )
        async with self.store.read() as connection:
            rows = (await connection.execute(query)).all()
        return [{**check_dict(r, 0), "report": None} for r in rows]

    async def add_version(
        self,
        check_id: int | None,
        editor: Row,
        model_hash: str,
        diff: str,
        restored_from: int | None = None,
    ) -> int:
        async with self.store.write() as connection:
            version_id = (
                await connection.execute(
                    versions.insert().values(
                        check_id=check_id,
                        editor_id=editor.id,
                        model_hash=model_hash,
                        diff=diff,
                        restored_from=restored_from,
                        created_at=self.store.clock(),
                    )
                )
            ).inserted_primary_key[0]
        return int(version_id)

    async def went_live(
        self, version_id: int, editor: Row, commit: str | None, action: str, seconds: float
    ) -> None:
        async with self.store.write() as connection:
            await connection.execute(
                versions.update()
                .where(versions.c.id == version_id)
                .values(live_since=self.store.clock(), commit=commit)
            )
            detail = {"version": version_id, "commit": commit, "seconds": round(seconds, 1)}
            await self.audit(connection, editor, action, detail)

    async def set_commit(self, version_id: int, commit: str) -> None:
        async with self.store.write() as connection:
            await connection.execute(
                versions.update().where(versions.c.id == version_id).values(commit=commit)
            )

    async def version(self, version_id: int) -> dict[str, Any]:
        async with self.store.read() as connection:
            row = (
                await connection.execute(_versions_query().where(versions.c.id == version_id))
            ).first()
        if row is None:
            raise NotFound("version")
        live = await self.live_version()
        return {**version_dict(row, with_diff=True), "live": bool(live and live["id"] == row.id)}

    async def version_list(self, limit: int = 50) -> list[dict[str, Any]]:
        query = _versions_query().order_by(versions.c.id.desc()).limit(limit)
        async with self.store.read() as connection:
            rows = (await connection.execute(query)).all()
        live = max((r for r in rows if r.live_since), key=lambda r: r.live_since, default=None)
        return [{**version_dict(r), "live": r is live} for r in rows]

    async def live_version(self) -> dict[str, Any] | None:
        query = (
            _versions_query()
            .where(versions.c.live_since.is_not(None))
            .order_by(versions.c.live_since.desc(), versions.c.id.desc())
            .limit(1)
        )
        async with self.store.read() as connection:
            row = (await connection.execute(query)).first()
        return version_dict(row) if row else None


def _versions_query() -> Any:
    return (
        select(versions, agents.c.name, checks.c.report)
        .join(agents, agents.c.id == versions.c.editor_id)
        .outerjoin(checks, checks.c.id == versions.c.check_id)
    )


def check_dict(row: Row, ahead: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "editor": row.name,
        "stages": row.stages,
        "report": row.report,
        "error": row.error,
        "ahead": ahead,
        "live_version": row.live_version,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
    }


def version_dict(row: Row, with_diff: bool = False) -> dict[str, Any]:
    answer = {
        "id": row.id,
        "check_id": row.check_id,
        "published_by": row.name,
        "model_hash": row.model_hash,
        "commit": row.commit,
        "restored_from": row.restored_from,
        "created_at": iso(row.created_at),
        "live_since": iso(row.live_since),
        "passed": bool((row.report or {}).get("passed")),
        # The model and data/ live before the studio's first publish.
        "original": row.check_id is None and row.restored_from is None,
    }
    if with_diff:
        answer["diff"] = row.diff
        answer["report"] = row.report
    return answer
