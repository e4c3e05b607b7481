"""Reading a content copy back: its files, and what changed between two texts."""

from __future__ import annotations

import difflib
from pathlib import Path


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
