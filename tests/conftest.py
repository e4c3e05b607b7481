"""Shared fixtures: the trained model, and the whole system running on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.store import get_store, seed
from studio.content import Content
from tools.model_cache import model_path
from tools.net import free_port
from tools.serve import ROOT, Stack


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training inputs; `make test` trains it first."""
    path = model_path()
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make train` (make test does) before pytest")
    return path


@pytest.fixture(scope="session")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa, the action server and the handoff service, shared by the e2e and browser tests.

    The studio writes labels into a copy of the content, never into the checkout's data/."""
    var = tmp_path_factory.mktemp("var")
    content = tmp_path_factory.mktemp("content")
    Content(ROOT).snapshot(content)
    store_url = f"sqlite:///{var / 'store.db'}"
    seed(get_store(store_url))
    get_store(store_url).engine.dispose()
    running = Stack(
        trained_model,
        free_port(),
        free_port(),
        var_dir=var,
        store_url=store_url,
        handoff_port=free_port(),
        content_dir=content,
    )
    running.start()
    yield running
    running.stop()
