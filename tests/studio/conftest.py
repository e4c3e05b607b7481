"""A copy of the content files per test: the studio writes into it, never into data/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.content import copy_content


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A copy of the content files that the test may write into."""
    return copy_content(tmp_path / "content")
