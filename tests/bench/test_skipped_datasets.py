"""A benchmark whose dataset is missing says so, in its output and in its results file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.escalation import frustration_benchmark
from bench.nlu import public_sections


def test_goemotions_missing_is_a_skipped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = frustration_benchmark(tmp_path / "no-datasets")

    assert section.startswith("skipped: GoEmotions (")
    assert str(tmp_path / "no-datasets" / "goemotions") + " not found" in section
    assert section in capsys.readouterr().out


def test_public_nlu_datasets_missing_are_skipped_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found, figures = public_sections(quick=True, work=tmp_path, folder=tmp_path / "no-datasets")

    out = capsys.readouterr().out
    for name, folder in (("CLINC150", "clinc150"), ("BANKING77", "banking77")):
        assert found[name].startswith(f"skipped: {name} (")
        assert str(tmp_path / "no-datasets" / folder) + " not found" in found[name]
        assert figures[name] == found[name]
        assert found[name] in out
    assert not list(tmp_path.glob("*.tar.gz"))  # nothing was trained
