"""The studio's Check as editors run it: ``python -m studio.check`` on a copy of the content.

A whole check trains a model for minutes: the suite runs one, from the studio page
(tests/browser/test_studio_publish.py), and ``make bench-studio`` checks a deliberately
bad change (15 shipping-cost phrases moved into the returns FAQ) and reports whether the
gate blocked it and which intents it named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from studio.check import TrainProgress, validator_findings
from studio.content import Content

ROOT = Path(__file__).resolve().parents[2]
SPACY = ROOT / "models" / "spacy" / "en_larkspur"


def copy_content(target: Path) -> Path:
    """The content as the studio hands it to the Check."""
    Content(ROOT).snapshot(target)
    return target


def run_check(content: Path, out: Path, live_model: Path) -> tuple[int, list[dict[str, Any]]]:
    """Run the Check from an unrelated working directory; exit status and JSON lines.

    The tolerance file named does not exist, so the gate uses its strict defaults (one
    message per intent): the test checks the Check, not results/gate-tolerance.json,
    which ``make bench-gate`` rewrites.
    """
    command = [sys.executable, "-m", "studio.check", "--content", str(content)]
    command += ["--live-model", str(live_model), "--out", str(out), "--spacy", str(SPACY)]
    command += ["--cache", str(out.parent / "cache")]
    command += ["--tolerance", str(out.parent / "no-tolerance-file.json")]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(  # noqa: S603 (our own module, fixed arguments)
        command, cwd=out.parent, env=env, capture_output=True, text=True, timeout=1800
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return done.returncode, lines


def stage_sequence(lines: list[dict[str, Any]]) -> list[str]:
    """``stage:state`` in order, repeated progress lines of a running stage collapsed."""
    sequence: list[str] = []
    for line in lines:
        step = f"{line['stage']}:{line.get('state', '')}"
        if not sequence or sequence[-1] != step:
            sequence.append(step)
    return sequence


def test_a_rule_naming_an_unknown_action_stops_at_validate(tmp_path: Path) -> None:
    content = copy_content(tmp_path / "content")
    rules = content / "data" / "dialogue" / "rules.yml"
    rules.write_text(
        rules.read_text()
        + "\n  - rule: a rule the studio must refuse\n    steps:\n      - intent: greet\n"
        + "      - action: action_that_does_not_exist\n"
    )

    status, lines = run_check(content, tmp_path / "out", tmp_path / "no-model.tar.gz")

    assert status == 2
    assert stage_sequence(lines) == ["validate:started", "validate:failed"]
    assert "action_that_does_not_exist" in lines[-1]["detail"]
    assert not (tmp_path / "out" / "model.tar.gz").exists()


def test_training_progress_follows_rasas_log() -> None:
    progress = TrainProgress(components=4)
    hooks = "2026-12-02 06:00:29 INFO     rasa.engine.training.hooks  - "
    log = [
        hooks + "Finished training component 'RegexFeaturizer'.",
        "Epochs:  10%|█         | 10/100 [00:21<02:25,  1.62s/it, t_loss=10.7]",
        "Epochs:  13%|█         | 13/100 [00:25<02:25,  1.62s/it, t_loss=10.7]",
        hooks + "Restored component 'RulePolicy' from cache.",
        "some other line",
    ]

    news = [progress.read(line) for line in log]

    assert news == [
        "RegexFeaturizer trained.",
        "Training the FAQ answer selector: 10% of its epochs.",
        None,
        "RulePolicy reused from the cache.",
        None,
    ]
    assert (progress.finished, progress.restored) == (2, 1)
    assert 0 < progress.fraction < 1


def test_the_validators_complaint_is_kept_and_what_it_says_of_valid_content_dropped() -> None:
    lines = [
        "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The intent 'greet' is not used "
        "in any story or rule.\x1b[0m",
        "/x/rasa/shared/utils/io.py:100: UserWarning: The action 'action_nope' is used in the "
        "'bad' block, but it is not listed in the domain file.",
    ]

    assert validator_findings(lines) == [
        "The action 'action_nope' is used in the 'bad' block, but it is not listed in the "
        "domain file."
    ]
