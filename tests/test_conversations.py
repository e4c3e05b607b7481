"""Conversation-level behaviour through Rasa's own story tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RASA = Path(sys.executable).parent / "rasa"


@pytest.mark.slow
def test_stories_pass(trained_model: Path, tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argv built here, no shell
        [
            str(RASA),
            "test",
            "core",
            "--model",
            str(trained_model),
            "--stories",
            "tests/test_stories.yml",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path / "results"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, f"story tests failed:\n{detail}"
