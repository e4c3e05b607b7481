"""Fixtures for action tests: a dispatcher, trackers from stored JSON, the real domain,
a throwaway store database seeded with the demo orders, and the email-digest key.

The action server's settings are read from the environment once and cached; every test
here starts and ends with that cache cleared, so ``monkeypatch.setenv`` takes effect."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import store
from actions.settings import settings

TRACKERS = Path(__file__).parent / "trackers"
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings read again from the (possibly monkeypatched) environment."""
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load(Path("domain.yml").read_text())


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """Build a tracker from a stored JSON file, overriding slots and the latest text."""

    def build(
        name: str = "order_status_form",
        text: str | None = None,
        *,
        sender_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        intent: str | None = None,
        loop: str | None = None,
        **slots: Any,
    ) -> Tracker:
        state = json.loads((TRACKERS / f"{name}.json").read_text())
        state = copy.deepcopy(state)
        state["slots"].update(slots)
        if text is not None:
            state["latest_message"]["text"] = text
        if metadata is not None:
            state["latest_message"]["metadata"] = metadata
        if intent is not None:
            state["latest_message"]["intent"] = {"name": intent, "confidence": 0.9}
        if sender_id is not None:
            state["sender_id"] = sender_id
        if loop is not None:
            state["active_loop"] = {"name": loop}
        return Tracker.from_dict(state)

    return build


@pytest.fixture
def pii_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The install's key for email digests, as the action server reads it."""
    monkeypatch.setenv("PII_KEY", "test-pii-key")
    settings.cache_clear()
    return "test-pii-key"


@pytest.fixture
def store_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[store.Store]:
    """A fresh SQLite store with the demo orders, used by every action via get_store()."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("STORE_DATABASE_URL", url)
    settings.cache_clear()
    store.get_store.cache_clear()
    db = store.get_store()
    store.seed(db, TODAY)
    yield db
    store.get_store.cache_clear()
    db.engine.dispose()


@pytest.fixture
def broken_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A store URL that points at a database that can't be opened."""
    monkeypatch.setenv("STORE_DATABASE_URL", f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    settings.cache_clear()
    store.get_store.cache_clear()
    yield
    store.get_store.cache_clear()
