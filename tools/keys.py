"""The install's secrets: created once in ``var/keys.json`` (mode 0600), read on every start.

``make run`` (and the end-to-end tests, in their own ``var``) get the same keys each
time, so a restart keeps agents signed in and digests comparable. An environment
variable of the upper-case name (``RASA_TOKEN`` …) overrides a stored key, for a
deployment that keeps its secrets elsewhere.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

FILE = "keys.json"


@dataclass(frozen=True)
class Keys:
    """One secret per door between the parts, and two for personal data."""

    rasa_token: str  # Rasa's HTTP API and the handoff channel
    actions_token: str  # Rasa → action server
    handoff_service_token: str  # action server and outbox → handoff service
    pii_key: str  # keyed digests of emails (contracts.pii)
    identity_secret: str  # the embedding site signs customer_ref with it


def load(var_dir: Path, environ: Mapping[str, str] = os.environ) -> Keys:
    """The install's keys: read from ``var_dir``, missing ones created and saved first."""
    path = var_dir / FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = {f.name for f in fields(Keys)} - stored.keys()
    if missing:
        stored.update({name: secrets.token_urlsafe(32) for name in missing})
        _save(path, stored)
    values = {f.name: environ.get(f.name.upper()) or stored[f.name] for f in fields(Keys)}
    return Keys(**values)


def _save(path: Path, values: dict[str, str]) -> None:
    """Write the file readable by its owner only, from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(values, out, indent=2)
    os.chmod(path, 0o600)  # an older file may have been wider


def main() -> None:
    """``python -m tools.keys``: ``export NAME=…`` lines for ``make shell``'s environment."""
    for name, value in vars(load(Path("var"))).items():
        print(f"export {name.upper()}={value}")


if __name__ == "__main__":
    main()
