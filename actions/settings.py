"""The action server's settings: one typed object, read once from the environment.

Handlers and CLIs take what they need from :func:`settings` (or a ``Settings`` passed in)
and never read ``os.environ`` themselves. Tests that change the environment call
``settings.cache_clear()`` so the next call reads it again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Where escalations go and where the action server keeps its data.

    Each field is read from the environment variable of the same name in upper case
    (``handoff_url`` from ``HANDOFF_URL`` …); unset ones keep their default.
    """

    # The handoff service that takes escalations; None: not configured, records wait.
    handoff_url: str | None = None
    # Shared with the handoff service, which checks it on every posted escalation.
    handoff_service_token: str = ""
    # Rasa sends it with every action call; the action server refuses a call without it.
    actions_token: str = ""
    # Keys the email digests the handoff service sends beside redacted text (contracts.pii).
    pii_key: str = ""
    # Where escalation records are stored before delivery (see actions.outbox).
    outbox_database_url: str = "sqlite:///var/outbox.db"
    # The store's order database (see actions.store).
    store_database_url: str = "sqlite:///var/store.db"
    # The published help articles: a link the studio points at each published version's
    # (``handoff.checks``); until the first publish it is missing, and data/articles is used.
    live_articles: str = ""
    # The spaCy pipeline used to lemmatize help-centre searches.
    spacy_model_path: str = "models/spacy/en_larkspur"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """``HANDOFF_URL``, ``STORE_DATABASE_URL`` …; unset ones keep their default."""
        values = {f.name: environ[f.name.upper()] for f in fields(cls) if f.name.upper() in environ}
        return cls(**values)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from ``os.environ`` on first use."""
    return Settings.from_env()
