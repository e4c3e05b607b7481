"""The pipelines `make bench-nlu` trains beside the shipped one are ones Rasa can train."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.nlu import sparse_config
from tools.serve import ROOT


def test_the_counts_only_pipeline_keeps_nothing_that_reads_the_encoder(tmp_path: Path) -> None:
    shipped = [s["name"] for s in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    out = sparse_config(ROOT / "config.yml", tmp_path / "config-sparse.yml")
    kept = [s["name"] for s in yaml.safe_load(out.read_text())["pipeline"]]
    # The familiarity scorer refuses to train without the encoder's features.
    assert [n for n in shipped if n not in kept] == [
        "bot.sentence_featurizer.SentenceEncoderFeaturizer",
        "bot.familiarity.FamiliarityScorer",
    ]
    assert "bot.classifiers.SafeLogisticRegressionClassifier" in kept
