"""One typed settings object, read once from ``HANDOFF_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

PREFIX = "HANDOFF_"


@dataclass(frozen=True)
class Settings:
    """Where the service listens, which database it uses, how much it accepts."""

    database_url: str = "sqlite+aiosqlite:///var/handoff.db"
    host: str = "127.0.0.1"
    port: int = 5080
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """``HANDOFF_DATABASE_URL``, ``HANDOFF_PORT`` …; unset ones keep their default."""
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(PREFIX + field.name.upper())
            if raw is None:
                continue
            if field.type == "int":
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    name = PREFIX + field.name.upper()
                    raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]
