"""A benchmark whose dataset is missing says so, in its output and in its results file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.escalation import frustration_benchmark


def test_goemotions_missing_is_a_skipped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = frustration_benchmark(tmp_path / "no-datasets")

    assert section.startswith("skipped: GoEmotions (")
    assert str(tmp_path / "no-datasets" / "goemotions") + " not found" in section
    assert section in capsys.readouterr().out
