"""Compare intent classifiers on the held-out sets and sweep the fallback threshold.

    make bench-nlu

Trains the shipped pipeline (config.yml, LogisticRegressionClassifier) and a variant with
DIETClassifier in its place, scores both with :mod:`tools.evaluation`, then sweeps the
FallbackClassifier threshold for each to show the in-scope/out-of-scope trade-off.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.report import table, write
from tools.evaluation import HELDOUT_IN_SCOPE, Example, Report, evaluate, load_examples, score

BIN = Path(sys.executable).parent
THRESHOLDS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7]
DIET = {"name": "DIETClassifier", "epochs": 100, "entity_recognition": False, "random_seed": 1}


def variant_config(work: Path) -> Path:
    """config.yml with the intent classifier swapped for DIETClassifier."""
    config = yaml.safe_load(Path("config.yml").read_text())
    config["pipeline"] = [
        DIET if step["name"].endswith("LogisticRegressionClassifier") else step
        for step in config["pipeline"]
    ]
    path = work / "config-diet.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def train(config: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train a model and return its path and the seconds it took."""
    started = time.monotonic()
    print(f"Training {name} …", flush=True)
    subprocess.run(  # noqa: S603 - fixed argv built here, no shell
        [
            str(BIN / "rasa"),
            "train",
            "--config",
            str(config),
            "--domain",
            "domain.yml",
            "--data",
            "data/nlu",
            "data/faq",
            "data/dialogue",
            "--out",
            str(out),
            "--fixed-model-name",
            name,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        # No training cache, so the seconds compare full training runs.
        env=dict(os.environ, RASA_MAX_CACHE_SIZE="0"),
    )
    return out / f"{name}.tar.gz", time.monotonic() - started


def fallback_threshold(config: Path) -> object:
    """The FallbackClassifier threshold a pipeline config sets, as written there."""
    return next(
        s["threshold"]
        for s in yaml.safe_load(config.read_text())["pipeline"]
        if s["name"].endswith("FallbackClassifier")
    )


def compare(
    configs: dict[str, Path], work: Path, in_scope: list[Example]
) -> tuple[list[list[object]], dict[str, list[list[float]]], Report]:
    """Train and score each config: a table row each, its threshold sweep, the last report."""
    rows: list[list[object]] = []
    sweeps: dict[str, list[list[float]]] = {}
    for name, config in configs.items():
        model, seconds = train(config, work, name)
        print(f"Evaluating {name} …", flush=True)
        report, in_preds, oos_preds = evaluate(model)
        rows.append(
            [
                name,
                fallback_threshold(config),
                report.intent_macro_f1,
                report.faq_accuracy,
                report.oos_recall,
                f"{seconds:.0f}",
            ]
        )
        sweeps[name] = [
            [t, (r := score(in_scope, in_preds, oos_preds, t)).intent_macro_f1, r.oos_recall]
            for t in THRESHOLDS
        ]
    return rows, sweeps, report


def sections(
    report: Report, rows: list[list[object]], sweeps: dict[str, list[list[float]]]
) -> dict[str, str]:
    """The results file: the classifier table, then one threshold sweep per classifier."""
    found = {
        "Classifiers on the held-out sets": (
            f"In-scope: {report.in_scope_count} messages "
            f"({report.faq_count} FAQ); out-of-scope: {report.oos_count}.\n\n"
            + table(
                [
                    "classifier",
                    "fallback threshold",
                    "intent macro-F1",
                    "FAQ selection acc.",
                    "OOS fallback recall",
                    "train s",
                ],
                rows,
            )
        ),
    }
    for name, sweep in sweeps.items():
        found[f"Fallback threshold sweep: {name}"] = table(
            ["threshold", "intent macro-F1", "OOS fallback recall"], sweep
        )
    return found


def main() -> int:
    in_scope = load_examples(HELDOUT_IN_SCOPE)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        configs = {
            "LogisticRegressionClassifier": Path("config.yml"),
            "DIETClassifier": variant_config(work),
        }
        rows, sweeps, report = compare(configs, work, in_scope)
    write("nlu", "make bench-nlu", sections(report, rows, sweeps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
