"""The real Rasa server and action server on free ports, shared by the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.store import get_store, seed
from bot.serve import Stack, free_port


@pytest.fixture(scope="package")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("var")
    store_url = f"sqlite:///{var / 'store.db'}"
    seed(get_store(store_url))
    get_store(store_url).engine.dispose()
    running = Stack(trained_model, free_port(), free_port(), var_dir=var, store_url=store_url)
    running.start()
    yield running
    running.stop()
