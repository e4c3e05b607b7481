"""A copy of the content files per test: the studio writes into it, never into data/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTENT = ("domain.yml", "config.yml", "escalation.yml")


def copy_content(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in CONTENT:
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "data", dest / "data")
    shutil.copytree(REPO / "tests" / "nlu", dest / "tests" / "nlu")
    return dest


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A copy of the content files that the test may write into."""
    return copy_content(tmp_path / "content")
