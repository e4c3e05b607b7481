"""Shared fixtures: the trained model that `make train` built for the current inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.model_cache import model_path


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training inputs; `make test` trains it first."""
    path = model_path()
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make train` (make test does) before pytest")
    return path
