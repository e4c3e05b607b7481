"""The action server's settings: read once from the environment, same names and defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions import outbox
from actions.settings import Settings, settings


@pytest.fixture
def no_outbox_cache() -> Iterator[None]:
    outbox.get_outbox.cache_clear()
    yield
    outbox.get_outbox.cache_clear()


def test_defaults_when_nothing_is_set() -> None:
    config = Settings.from_env({})
    assert config == Settings()
    assert config.handoff_url is None
    assert config.handoff_service_token == ""
    assert config.outbox_database_url == "sqlite:///var/outbox.db"
    assert config.store_database_url == "sqlite:///var/store.db"
    assert config.spacy_model_path == "models/spacy/en_larkspur"


def test_each_variable_overrides_its_setting_and_others_are_ignored() -> None:
    config = Settings.from_env(
        {
            "HANDOFF_URL": "http://handoff:5080",
            "HANDOFF_SERVICE_TOKEN": "s3cret",
            "OUTBOX_DATABASE_URL": "postgresql://db/outbox",
            "STORE_DATABASE_URL": "postgresql://db/store",
            "SPACY_MODEL_PATH": "/models/spacy",
            "HANDOFF_PORT": "6001",  # the handoff service's, not ours
            "handoff_url": "http://lower-case-is-not-read",
        }
    )
    assert config == Settings(
        handoff_url="http://handoff:5080",
        handoff_service_token="s3cret",  # noqa: S106 - a test credential; guards nothing real
        outbox_database_url="postgresql://db/outbox",
        store_database_url="postgresql://db/store",
        spacy_model_path="/models/spacy",
    )


def test_one_override_keeps_the_other_defaults() -> None:
    config = Settings.from_env({"STORE_DATABASE_URL": "sqlite:///elsewhere.db"})
    assert config == dataclasses.replace(Settings(), store_database_url="sqlite:///elsewhere.db")


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().handoff_url = "http://x"  # type: ignore[misc]


def test_the_accessor_reads_os_environ_once_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_URL", "http://first")
    first = settings()
    monkeypatch.setenv("HANDOFF_URL", "http://second")
    assert settings() is first
    assert first.handoff_url == "http://first"
    settings.cache_clear()
    assert settings().handoff_url == "http://second"


def test_the_outbox_cli_takes_its_urls_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_outbox_cache: None,
) -> None:
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'outbox.db'}")
    monkeypatch.delenv("HANDOFF_URL", raising=False)
    assert outbox.main(["status"]) == 0
    assert "0 escalation(s) waiting" in capsys.readouterr().out
    assert (tmp_path / "outbox.db").exists()
    assert outbox.main(["drain"]) == 2
    assert "HANDOFF_URL is not set" in capsys.readouterr().err
