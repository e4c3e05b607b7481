"""The public intent datasets that ``make bench-nlu`` measures on, as Rasa training data.

Read from ``$LARKSPUR_DATASETS`` (by default ../shared/datasets, see its README for the
licences), never copied into this repository: the benchmark writes Rasa YAML training files
into a temporary folder and deletes them afterwards.

- CLINC150 "full" (``clinc150/data_full.json``, CC BY 3.0): 150 intents plus ``oos``;
  ``oos_train`` is trained as an extra intent, as in Larson et al. 2019 ("oos-train").
- BANKING77 (``banking77/{train,test}.csv``, CC BY 4.0): 77 intents, every message in scope.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

DATASETS = Path(os.environ.get("LARKSPUR_DATASETS", "../shared/datasets"))
OUT_OF_SCOPE = "oos"

Pair = tuple[str, str]  # (text, intent)


@dataclass(frozen=True)
class Dataset:
    """One public dataset's training and test messages."""

    name: str
    train: list[Pair]
    test: list[Pair]
    out_of_scope: str | None = None  # the intent that means "none of these", if any


def clinc150(folder: Path) -> Dataset:
    """CLINC150 full: train + oos_train for training, test + oos_test for testing."""
    splits = json.loads((folder / "data_full.json").read_text())

    def pairs(*names: str) -> list[Pair]:
        return [(text, intent) for name in names for text, intent in splits[name]]

    return Dataset(
        "CLINC150 full", pairs("train", "oos_train"), pairs("test", "oos_test"), OUT_OF_SCOPE
    )


def banking77(folder: Path) -> Dataset:
    """BANKING77: the published train and test CSV files."""

    def pairs(split: str) -> list[Pair]:
        with (folder / f"{split}.csv").open(newline="") as handle:
            return [(row["text"], row["category"]) for row in csv.DictReader(handle)]

    return Dataset("BANKING77", pairs("train"), pairs("test"))


# name in the results -> (folder, the file that must be there, loader)
SOURCES: dict[str, tuple[str, str, Callable[[Path], Dataset]]] = {
    "CLINC150": ("clinc150", "data_full.json", clinc150),
    "BANKING77": ("banking77", "train.csv", banking77),
}


def load(name: str, datasets: Path = DATASETS) -> Dataset | str:
    """The dataset, or a "skipped: …" line saying where it was looked for."""
    folder_name, marker, loader = SOURCES[name]
    folder = datasets / folder_name
    if not (folder / marker).is_file():
        return f"skipped: {name} ({folder} not found; set LARKSPUR_DATASETS)"
    return loader(folder)


def sample(dataset: Dataset, per_intent: int, test_size: int, seed: int = 0) -> Dataset:
    """At most ``per_intent`` training messages per intent and ``test_size`` test messages."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    by_intent: dict[str, list[Pair]] = defaultdict(list)
    for pair in dataset.train:
        by_intent[pair[1]].append(pair)
    train = [
        p for pairs in by_intent.values() for p in rng.sample(pairs, min(per_intent, len(pairs)))
    ]
    test = rng.sample(dataset.test, min(test_size, len(dataset.test)))
    return replace(dataset, train=train, test=test)


def write_nlu(pairs: list[Pair], path: Path) -> Path:
    """Write the messages as a Rasa YAML NLU file (Rasa's own writer does the escaping)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = TrainingData([Message.build(text=text, intent=intent) for text, intent in pairs])
    path.write_text(RasaYAMLWriter().dumps(data))
    return path
