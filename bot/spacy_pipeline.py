"""Build the spaCy pipeline Rasa's ``SpacyNLP`` loads: blank English + lookup lemmas.

No pretrained model can be downloaded here, so the pipeline is a blank ``en`` model with
a lookup lemmatizer whose tables come from the ``spacy-lookups-data`` package.

    python -m bot.spacy_pipeline models/spacy/en_larkspur
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_PATH = Path("models/spacy/en_larkspur")


def build(path: Path = DEFAULT_PATH) -> Path:
    """Create the pipeline and save it to ``path``; return the path."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


def main(argv: list[str]) -> int:
    path = build(Path(argv[0]) if argv else DEFAULT_PATH)
    print(f"spaCy pipeline saved to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
