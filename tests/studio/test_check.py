"""The studio's Check as editors run it: ``python -m studio.check`` on a copy of the content."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ["domain.yml", "config.yml", "data", "escalation.yml", "bot", "contracts"]
TEST_SETS = ["tests/nlu", "tests/escalation"]
SPACY = ROOT / "models" / "spacy" / "en_larkspur"
MOVED = 15


def copy_content(target: Path) -> Path:
    """The content as the studio hands it to the Check: data, domain, tests, bot code."""
    target.mkdir()
    for name in CONTENT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    for folder in TEST_SETS:
        (target / folder).mkdir(parents=True)
        for path in (ROOT / folder).glob("*.yml"):
            shutil.copy(path, target / folder / path.name)
    return target


def run_check(content: Path, out: Path, live_model: Path) -> tuple[int, list[dict[str, Any]]]:
    """Run the Check from an unrelated working directory; exit status and JSON lines."""
    command = [sys.executable, "-m", "studio.check", "--content", str(content)]
    command += ["--live-model", str(live_model), "--out", str(out), "--spacy", str(SPACY)]
    command += ["--cache", str(out.parent / "cache")]
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


def live_model() -> Path:
    models = sorted((ROOT / "models").glob("larkspur-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("no trained model in models/ (larkspur-*.tar.gz): run `make train` first")
    return models[-1]


def move_faq_examples(content: Path, source: str, target: str, count: int) -> list[str]:
    """Relabel ``count`` training phrases of FAQ ``source`` as ``target``; the phrases."""
    path = content / "data" / "nlu" / "faq.yml"
    data = yaml.safe_load(path.read_text())
    blocks = {block.get("intent"): block for block in data["nlu"]}
    phrases = blocks[source]["examples"].splitlines()
    moved, kept = phrases[:count], phrases[count:]
    blocks[source]["examples"] = "\n".join(kept) + "\n"
    blocks[target]["examples"] += "\n".join(moved) + "\n"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return [p.removeprefix("- ") for p in moved]


@pytest.mark.slow
def test_relabelled_shipping_costs_are_blocked_with_the_broken_messages(tmp_path: Path) -> None:
    model = live_model()
    content = copy_content(tmp_path / "content")
    move_faq_examples(content, "faq/shipping_cost", "faq/return_window", MOVED)

    status, lines = run_check(content, tmp_path / "out", model)

    assert stage_sequence(lines) == [
        "validate:started",
        "validate:done",
        "train:started",
        "train:done",
        "score_live:started",
        "score_live:done",
        "score_candidate:started",
        "score_candidate:done",
        "escalation:started",
        "escalation:done",
        "compare:started",
        "compare:done",
        "done:",
    ]
    assert status == 1
    assert lines[-1] == {
        "stage": "done",
        "passed": False,
        "report": str(tmp_path / "out/report.json"),
    }
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    regressed = {row["intent"] for row in report["per_intent"] if row["counted_as_regression"]}
    assert "faq/shipping_cost" in regressed
    assert any(reason.startswith("faq/shipping_cost F1 fell from") for reason in report["reasons"])
    broken = [b for b in report["broken"] if b["expected"] == "faq/shipping_cost"]
    assert broken
    assert all(b["live_prediction"] == "faq/shipping_cost" for b in broken)
    assert {b["candidate_prediction"] for b in broken} & {"faq/return_window", "nlu_fallback"}
    assert all(0 <= line.get("progress", 0) <= 1 for line in lines)


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
