"""Name the trained model after a hash of everything that goes into training.

``make train`` trains only when no model with the current hash exists, so reruns with
unchanged data, config and dependencies reuse the model.

    python -m tools.model_cache     # prints models/larkspur-<hash>.tar.gz
"""

from __future__ import annotations

import hashlib
from pathlib import Path

TRAINING_INPUTS = [
    "config.yml",
    "domain.yml",
    "requirements.lock",
    "data/nlu",
    "data/faq",
    "data/dialogue",
    "data/frustration",
    "bot/classifiers.py",
    "bot/encoder.py",
    "bot/escalation.py",
    "bot/escalation_policy.py",
    "bot/frustration.py",
    "bot/sentence_featurizer.py",
    "bot/sentiment.py",
    "bot/spacy_pipeline.py",
    "contracts/triggers.py",
]
MODELS_DIR = Path("models")


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def training_hash(root: Path = Path(".")) -> str:
    """A short hash of the paths and contents of every training input."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        for path in _files(root / name):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(root: Path = Path(".")) -> Path:
    """Where the model for the current training inputs lives (it may not exist yet)."""
    return MODELS_DIR / f"larkspur-{training_hash(root)}.tar.gz"


if __name__ == "__main__":
    print(model_path())
