"""A copy of the content for a test, and reading it back: its files, what changed."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTENT = ("domain.yml", "config.yml", "escalation.yml")
RASA = Path(sys.executable).parent / "rasa"


def copy_content(dest: Path) -> Path:
    """The content files of the checkout, copied into ``dest`` for a test to write into."""
    dest.mkdir(parents=True)
    for name in CONTENT:
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "data", dest / "data")
    shutil.copytree(REPO / "tests" / "nlu", dest / "tests" / "nlu")
    shutil.copy2(REPO / "tests" / "test_stories.yml", dest / "tests" / "test_stories.yml")
    return dest


def files(root: Path) -> dict[str, str]:
    """Every content file's text, by its path under ``root``."""
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) between two texts, as ``git diff`` would show them."""
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def rasa_validate(root: Path) -> subprocess.CompletedProcess[str]:
    """``rasa data validate`` over the content under ``root``, as ``make validate`` runs it."""
    command = [str(RASA), "data", "validate", "--config", "config.yml", "--domain", "domain.yml"]
    command += ["--data", "data/nlu", "data/faq", "data/dialogue", "--fail-on-warnings"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)  # noqa: S603 - fixed argv built here, no shell
