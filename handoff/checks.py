"""Check, publish, roll back: the studio's one path from ``data/`` to the live model.

A check runs ``python -m studio.check`` in a process of its own, one at a time (a second
waits in line and is told so), and its progress lines are kept as they come, stage by
stage, for the page to show. Training never runs in the service's event loop.

Publishing makes Rasa load the checked model over its authenticated HTTP API (``PUT
/model``): the old model answers until the new one is loaded, and the trackers stay in
Rasa's tracker store, so no conversation is dropped. Every version keeps its model, its
content and its report under ``studio_dir/versions/<id>``; rolling back is publishing an
earlier one by the same path. Where ``data/`` is in a git work tree, each publish is also
a commit by the editor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Row

from handoff.clients import rasa
from handoff.errors import ApiError, Conflict
from handoff.state import EDITING, HTTP, SETTINGS
from studio.content import Content
from studio.content import diff as content_diff
from tools.model_cache import training_hash

logger = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]  # where ``python -m studio.check`` resolves
# What a publish commits, relative to the content directory.
PUBLISHED_PATHS = ("data", "tests/nlu/from_traffic.yml")
EXIT_STATES = {0: "passed", 1: "blocked"}  # anything else: failed


class Checks:
    """The line of checks, and the one publish at a time."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.wake = asyncio.Event()
        self.publishing = asyncio.Lock()
        settings = app[SETTINGS]
        self.content_dir = Path(settings.content_dir).resolve()
        self.studio_dir = Path(settings.studio_dir).resolve()
        self._exit_code = 0
        self._process: asyncio.subprocess.Process | None = None

    # --- the line of checks ------------------------------------------------------------

    async def request(self, editor: Row) -> dict[str, Any]:
        check_id, ahead = await self.app[EDITING].add_check(editor)
        self.wake.set()
        check = await self.app[EDITING].check(check_id)
        if ahead:
            check["message"] = (
                f"Another check is running; yours is queued and starts after {ahead} more."
            )
        return check

    async def recover(self) -> None:
        """At start-up, before any request: checks a stopped service left running failed;
        queued ones wake the line."""
        failed = await self.app[EDITING].interrupted_checks()
        if failed:
            logger.info("%d checks were interrupted by a restart", failed)
        if await self.app[EDITING].next_check() is not None:
            self.wake.set()

    async def run_forever(self) -> None:
        """Sleep until a check is asked for, then run the line; the database is touched
        only while there is work, so stopping the service never cuts a query short."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                while (check_id := await self.app[EDITING].next_check()) is not None:
                    await self._run_one(check_id)
            except Exception:  # the database, say: log, and try again at the next wake
                logger.exception("the line of checks failed")
                self.wake.set()
                await asyncio.sleep(5)

    async def _run_one(self, check_id: int) -> None:
        try:
            await self.run(check_id)
        except ApiError as error:  # Rasa unreachable, say: expected, no trace
            logger.warning("check %s could not run: %s", check_id, error.message)
            await self._finish(
                check_id, "failed", None, f"The check could not run: {error.message}"
            )
        except Exception as error:
            logger.exception("check %s failed", check_id)
            await self._finish(check_id, "failed", None, f"The check could not run: {error}")

    async def run(self, check_id: int) -> None:
        editing = self.app[EDITING]
        folder = self.studio_dir / "checks" / str(check_id)
        compared = await editing.live_version()  # what this check is compared with
        await editing.update_check(
            check_id,
            state="running",
            started_at=editing.store.clock(),
            live_version=compared["id"] if compared else None,
        )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _fresh_snapshot, self.content_dir, folder / "content")
        live = await self.live_model_file()
        stages: list[dict[str, Any]] = []
        async for line in self._worker(folder, live):
            _merge(stages, line)
            await editing.update_check(check_id, stages=stages)
        report_file = folder / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else None
        code = self._exit_code
        state = EXIT_STATES.get(code, "failed")
        error = None if state != "failed" else _why_failed(stages, code)
        await self._finish(check_id, state, report, error)

    async def _worker(self, folder: Path, live_model: str) -> AsyncIterator[dict[str, Any]]:
        command = [
            sys.executable,
            "-m",
            "studio.check",
            "--content",
            str(folder / "content"),
            "--live-model",
            live_model,
            "--out",
            str(folder),
            "--spacy",
            str(self.content_dir / "models" / "spacy" / "en_larkspur"),
            "--cache",
            str(self.studio_dir / "train-cache"),
        ]
        with open(folder / "worker.log", "wb") as log:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=REPO_ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                limit=1 << 20,  # a long progress line must not break the read
            )
            self._process = process
            assert process.stdout is not None  # noqa: S101 - asked for a pipe just above
            try:
                async for raw in process.stdout:
                    try:
                        line = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(line, dict):
                        yield line
                self._exit_code = await process.wait()
            finally:  # a failure here must not leave the worker training on its own
                await self.stop_worker()
                self._process = None

    async def stop_worker(self) -> None:
        """The service stops: so does a check's worker (the check is marked failed at the
        next start)."""
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._process.wait(), 10)

    async def _finish(
        self, check_id: int, state: str, report: dict[str, Any] | None, error: str | None
    ) -> None:
        editing = self.app[EDITING]
        await editing.update_check(
            check_id, state=state, report=report, error=error, finished_at=editing.store.clock()
        )

    async def live_model_file(self) -> str:
        """The model file Rasa serves now: the live version's, else the one Rasa was
        started with (``HANDOFF_RASA_MODEL``, else the one ``make run`` picks)."""
        live = await self.app[EDITING].live_version()
        if live is not None:
            return str(self.studio_dir / "versions" / str(live["id"]) / "model.tar.gz")
        await rasa.status(self.app[HTTP], self.app[SETTINGS])  # Rasa answers, with a model
        started = self.app[SETTINGS].rasa_model
        if started:
            return str(Path(started).resolve())
        # data/ as the studio first found it (labels since change the hash).
        found = baseline_dir(self.studio_dir)
        source = found if found.exists() else self.content_dir
        loop = asyncio.get_running_loop()
        content_hash = await loop.run_in_executor(None, training_hash, source)
        return str(self.content_dir / "models" / f"larkspur-{content_hash}.tar.gz")

    # --- publish and roll back ------------------------------------------------------------

    async def publish(self, check_id: int, editor: Row) -> dict[str, Any]:
        """Make a passed check's model live (data/ already holds what it checked, and maybe
        newer labels, which stay for the next check)."""
        source = self.studio_dir / "checks" / str(check_id)
        async with self.publishing:  # read inside: a second click finds it published
            check = await self.app[EDITING].check(check_id)
            if check["state"] != "passed":
                raise Conflict("not_passed", _not_passed(check))
            live = await self.app[EDITING].live_version()
            if (live["id"] if live else None) != check["live_version"]:
                raise Conflict(
                    "stale_check",
                    f"Version {live['id'] if live else '?'} went live after check {check_id} "
                    "started, so it was not compared with the live model: check again.",
                )
            if live is None:
                await self._keep_original(editor)
            before = await self._live_content()
            version_id = await self._keep(source, check_id, editor, before)
            await self.app[EDITING].update_check(check_id, state="published")
            message = f"Publish check {check_id}"
            return await self._go_live(version_id, editor, "publish", message, restore=False)

    async def roll_back(self, version_id: int, editor: Row) -> dict[str, Any]:
        """Make an earlier version live again by the same path, data/ included."""
        source = self.studio_dir / "versions" / str(version_id)
        async with self.publishing:
            old = await self.app[EDITING].version(version_id)
            if old["live"]:
                raise Conflict("already_live", f"Version {version_id} is the live one already.")
            before = await self._live_content()
            new_id = await self._keep(source, old["check_id"], editor, before, version_id)
            message = f"Roll back to version {version_id}"
            return await self._go_live(new_id, editor, "roll_back", message, restore=True)

    async def _live_content(self) -> Path | None:
        live = await self.app[EDITING].live_version()
        if live is None:
            return None
        return self.studio_dir / "versions" / str(live["id"]) / "content"

    async def _keep_original(self, editor: Row) -> None:
        """Before the first publish: the model and data/ live until now become the first
        version (data/ as the studio first found it), so it can be rolled back to."""
        live_model = Path(await self.live_model_file())
        content = baseline_dir(self.studio_dir)
        loop = asyncio.get_running_loop()
        if not content.exists():
            await loop.run_in_executor(None, _fresh_snapshot, self.content_dir, content)
        model_hash = await loop.run_in_executor(None, training_hash, content)
        editing = self.app[EDITING]
        version_id = await editing.add_version(None, editor, model_hash, "")
        folder = self.studio_dir / "versions" / str(version_id)
        await loop.run_in_executor(None, _copy_original, live_model, content, folder)
        await editing.went_live(version_id, editor, None, "keep_original", 0.0)

    async def _keep(
        self,
        source: Path,
        check_id: int,
        editor: Row,
        before: Path | None,
        restored_from: int | None = None,
    ) -> int:
        """A new version folder: the model, the content and the report of ``source``."""
        loop = asyncio.get_running_loop()
        content = source / "content"
        model_hash = await loop.run_in_executor(None, training_hash, content)
        diff = await loop.run_in_executor(None, content_diff, before or self.content_dir, content)
        editing = self.app[EDITING]
        version_id = await editing.add_version(check_id, editor, model_hash, diff, restored_from)
        folder = self.studio_dir / "versions" / str(version_id)
        await loop.run_in_executor(None, _copy_version, source, folder)
        return version_id

    async def _go_live(
        self, version_id: int, editor: Row, action: str, message: str, *, restore: bool
    ) -> dict[str, Any]:
        """Rasa loads the version's model; then it is recorded as live, at once, so the
        record never disagrees with what Rasa serves; then data/ (on a roll back), the
        model file ``make run`` finds, and the editor's commit."""
        folder = self.studio_dir / "versions" / str(version_id)
        started = time.monotonic()
        model = folder / "model.tar.gz"
        await rasa.load_model(self.app[HTTP], self.app[SETTINGS], str(model))
        seconds = time.monotonic() - started
        # A Rasa restarted by tools.serve serves this one too (tools/rasa_server.py).
        (self.studio_dir / "live-model").write_text(f"{model}\n")
        # The action server answers from this version's articles from its next search on.
        point_live_articles(self.studio_dir, folder / "content" / "data" / "articles")
        editing = self.app[EDITING]
        await editing.went_live(version_id, editor, None, action, seconds)
        version = await editing.version(version_id)
        try:
            commit = await self._install_and_commit(folder, version, editor, message, restore)
        except (OSError, subprocess.CalledProcessError):
            logger.exception(
                "version %s is live, but installing or committing it failed", version_id
            )
            commit = None
        if commit:
            await editing.set_commit(version_id, commit)
        return {**(await editing.version(version_id)), "seconds": round(seconds, 2)}

    async def _install_and_commit(
        self, folder: Path, version: dict[str, Any], editor: Row, message: str, restore: bool
    ) -> str | None:
        from handoff.studio import INBOX  # handoff.studio imports this module

        loop = asyncio.get_running_loop()
        async with self.app[INBOX].write_lock:  # no label is written meanwhile
            await loop.run_in_executor(
                None, _install, folder, self.content_dir, version["model_hash"], restore
            )
            return await loop.run_in_executor(
                None, git_commit, self.content_dir, folder / "content", str(editor.name), message
            )


def point_live_articles(studio_dir: Path, articles: Path) -> None:
    """``studio_dir/live-articles`` links to the live version's articles, replaced in one
    step: the action server (``LIVE_ARTICLES``) reads either the old ones or the new."""
    link = studio_dir / "live-articles"
    staging = studio_dir / f".live-articles.{os.getpid()}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(articles.resolve(), target_is_directory=True)
    os.replace(staging, link)


def baseline_dir(studio_dir: Path) -> Path:
    return studio_dir / "baseline"


def keep_baseline(content_dir: Path, studio_dir: Path) -> None:
    """Before the studio first writes into data/: a copy, for the first version's diff;
    and the action server's articles become that copy's, so an article edited here is
    quoted once published, not from the moment it is saved."""
    if not baseline_dir(studio_dir).exists():
        _fresh_snapshot(content_dir, baseline_dir(studio_dir))
    if not (studio_dir / "live-articles").exists():
        point_live_articles(studio_dir, baseline_dir(studio_dir) / "data" / "articles")


def _fresh_snapshot(content_dir: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    Content(content_dir).snapshot(dest)


def _copy_version(source: Path, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # a leftover of a database reset
    folder.mkdir(parents=True)
    shutil.copy2(source / "model.tar.gz", folder / "model.tar.gz")
    shutil.copytree(source / "content", folder / "content", symlinks=True)
    if (source / "report.json").exists():
        shutil.copy2(source / "report.json", folder / "report.json")


def _copy_original(model: Path, content: Path, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # a leftover of a database reset
    folder.mkdir(parents=True)
    shutil.copy2(model, folder / "model.tar.gz")
    shutil.copytree(content, folder / "content", symlinks=True)


def _install(folder: Path, content_dir: Path, model_hash: str, restore: bool) -> None:
    """On a roll back, the version's data/ becomes the content directory's; always, its
    model is the one ``make run`` finds for that data (``tools.model_cache``)."""
    for name in PUBLISHED_PATHS if restore else ():
        source, target = folder / "content" / name, content_dir / name
        if source.is_dir():
            staging = target.with_name(target.name + ".publishing")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(source, staging)
            old = target.with_name(target.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()
    models = content_dir / "models"
    models.mkdir(exist_ok=True)
    shutil.copy2(folder / "model.tar.gz", models / f"larkspur-{model_hash}.tar.gz")


def _git(work_tree: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        ["git", "-C", str(work_tree), *args],  # noqa: S607 - git from PATH, as a developer runs it
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return result.stdout.strip()


def git_commit(work_tree: Path, content: Path, author: str, message: str) -> str | None:
    """Commit ``content``'s published paths as they are there, by ``author``; the id, or
    None when ``work_tree`` is not the top of a git work tree or nothing changed.

    The commit is built in a throwaway index from ``content``, so edits made in the work
    tree since the check (labels not yet checked) stay uncommitted."""
    try:
        top = Path(_git(work_tree, "rev-parse", "--show-toplevel")).resolve()
        head = _git(work_tree, "rev-parse", "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    if top != work_tree.resolve():
        logger.info("%s is not the top of its git work tree; publish not committed", work_tree)
        return None
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(work_tree, "read-tree", "HEAD", env=index)
        paths = [p for p in PUBLISHED_PATHS if (content / p).exists() or (work_tree / p).exists()]
        _git(work_tree, f"--work-tree={content}", "add", "-A", "--", *paths, env=index)
        tree = _git(work_tree, "write-tree", env=index)
    if tree == _git(work_tree, "rev-parse", "HEAD^{tree}"):
        return None
    who = {
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author}@studio.invalid",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": f"{author}@studio.invalid",
    }
    commit = _git(work_tree, "commit-tree", tree, "-p", head, "-m", f"Studio: {message}", env=who)
    _git(work_tree, "update-ref", "HEAD", commit, head)
    _git(work_tree, "reset", "-q", "--", *paths)  # the real index follows the new HEAD
    return commit


def _merge(stages: list[dict[str, Any]], line: dict[str, Any]) -> None:
    """Keep the latest line of each stage, in the order the stages started."""
    for index, known in enumerate(stages):
        if known.get("stage") == line.get("stage"):
            stages[index] = {**known, **line}
            return
    stages.append(line)


def _why_failed(stages: list[dict[str, Any]], code: int) -> str:
    failed = [s for s in stages if s.get("state") == "failed"]
    if failed:
        return f"{failed[-1].get('stage')}: {failed[-1].get('detail') or 'failed'}"
    return f"The check stopped with exit status {code}; the live model stays."


def _not_passed(check: dict[str, Any]) -> str:
    state = check["state"]
    if state in ("queued", "running"):
        return f"Check {check['id']} is still {state}; publish it once it has passed."
    if state == "blocked":
        return f"Check {check['id']} found regressions; only a passed check can be published."
    if state == "published":
        return f"Check {check['id']} is published already."
    return f"Check {check['id']} failed ({check.get('error') or 'no report'}); check again."


CHECKS = web.AppKey("checks", Checks)
