"""The editors' "Check": validate, train and score edited content against the live model.

    python -m studio.check --content DIR --live-model PATH --out DIR [--cache DIR] [--spacy DIR]

Runs as its own process, never inside the web service's event loop. ``DIR`` is a copy of
the content (domain, config, data/, tests/nlu/, tests/escalation/, escalation.yml, bot/);
every Rasa command runs with it as the working directory. Each stage is reported on
stdout as one JSON object per line::

    {"stage": "train", "state": "started"|"done"|"failed", "detail": "...", "seconds": 1.2,
     "progress": 0.4}

While a stage runs, further ``"started"`` lines of it carry its progress (0 to 1) and what
it is doing; the last line is ``{"stage": "done", "passed": ..., "report": "OUT/report.json"}``.
Exit status: 0 passed, 1 the gate blocks the candidate, 2 a stage failed (the content does
not validate, training failed, or the check itself broke); then no "done" line follows.

Each scoring runs in a child process of its own, which returns its model's memory when it
exits. Two run at a time, one per core: the live model's while the candidate trains, then
the candidate's NLU scoring beside its escalation replay.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bot import encoder
from studio.gate import (
    FROM_TRAFFIC,
    HELDOUT,
    OUT_OF_SCOPE,
    POOLED,
    EscalationResult,
    Judged,
    Scoring,
    Tolerance,
    compare,
)
from studio.lint import lint

REPO = Path(__file__).resolve().parent.parent
RASA = Path(sys.executable).with_name("rasa")
RASA_DATA = ("data/nlu", "data/faq", "data/dialogue")
SPACY_MODEL = Path("models/spacy/en_larkspur")  # relative, as config.yml names it
NLU_SETS = {
    HELDOUT: Path("tests/nlu/heldout.yml"),
    OUT_OF_SCOPE: Path("tests/nlu/out_of_scope.yml"),
    FROM_TRAFFIC: Path("tests/nlu/from_traffic.yml"),
}
ESCALATION_DIR = Path("tests/escalation")
PASSED, BLOCKED, ERROR = 0, 1, 2
TAIL_LINES = 30
COMPONENT_LINE = re.compile(r"(Finished training component|Restored component) '(\w+)'")
EPOCH_LINE = re.compile(r"Epochs:\s+(\d+)%")


EMITTING = threading.Lock()


class StageFailed(Exception):
    """A stage could not finish; the message says why, for the editor."""


class Stage:
    """One reported stage: started, optional progress, then done or failed."""

    def __init__(self, name: str, out: IO[str]) -> None:
        self.name, self.out, self.started = name, out, time.monotonic()
        self.detail = ""

    def emit(self, state: str, detail: str, progress: float | None = None) -> None:
        line: dict[str, Any] = {"stage": self.name, "state": state, "detail": detail}
        line["seconds"] = round(self.elapsed(), 2)
        if progress is not None:
            line["progress"] = round(min(max(progress, 0.0), 1.0), 3)
        with EMITTING:  # stages run side by side: their lines must not interleave
            self.out.write(json.dumps(line) + "\n")
            self.out.flush()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress(self, fraction: float, detail: str) -> None:
        self.emit("started", detail, fraction)


@contextmanager
def stage(name: str, starting: str, out: IO[str] = sys.stdout) -> Iterator[Stage]:
    """Report ``name`` as started, then done with ``Stage.detail`` or failed with the error."""
    current = Stage(name, out)
    current.emit("started", starting, 0.0)
    try:
        yield current
    except StageFailed as error:
        current.emit("failed", str(error))
        raise
    except Exception as error:
        # Exit 1 means "blocked", so a crash must not end the check as one: it fails the stage.
        traceback.print_exc()
        current.emit("failed", f"The check itself failed ({type(error).__name__}: {error}).")
        raise StageFailed(str(error)) from error
    current.emit("done", current.detail, 1.0)


# --- running commands in the content copy ---------------------------------------------------


def child_env(cache: Path | None = None, quiet: bool = False) -> dict[str, str]:
    """The environment of every child: quiet TensorFlow, no telemetry, our packages importable.

    ``quiet`` silences Rasa's log below warnings (training needs its INFO lines: progress).

    The content copy comes first on the path (Rasa puts the working directory there), so a
    content copy that carries its own ``bot/`` trains with it.
    """
    env = dict(os.environ)
    env.update(TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    if quiet:
        env["LOG_LEVEL"] = "WARNING"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The copy's bot/ would look for the sentence encoder inside the copy: point it here.
    env.setdefault(encoder.FOLDER_VARIABLE, str(encoder.model_folder()))
    if cache is not None:
        env["RASA_CACHE_DIRECTORY"] = str(cache)
    return env


class Streamed:
    """A command whose output (stdout and stderr) is read line by line as it runs.

    Progress bars redraw with carriage returns, so those end a line too. ``status`` is the
    exit status once the output has been read to the end.
    """

    def __init__(self, command: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument lists, no shell)
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.status: int | None = None

    def __iter__(self) -> Iterator[str]:
        assert self.process.stdout is not None  # noqa: S101 (set by stdout=PIPE)
        fd, buffer = self.process.stdout.fileno(), b""
        while chunk := os.read(fd, 65536):
            *lines, buffer = re.split(rb"[\r\n]", buffer + chunk)
            yield from (line.decode(errors="replace") for line in lines if line.strip())
        if buffer.strip():
            yield buffer.decode(errors="replace")
        self.status = self.process.wait()


def run_streamed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run ``command`` to the end: its exit status and every output line."""
    run = Streamed(command, cwd, env)
    lines = list(run)
    return run.status if run.status is not None else -1, lines


def link_spacy_model(content: Path, spacy: Path | None) -> None:
    """Make config.yml's relative spaCy model path resolve inside the content copy."""
    target = content / SPACY_MODEL
    if target.exists() or spacy is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(spacy.resolve(), target_is_directory=True)


def data_args(content: Path) -> list[str]:
    return ["--config", "config.yml", "--domain", "domain.yml", "--data"] + [
        d for d in RASA_DATA if (content / d).exists()
    ]


# --- stage 1: validate ----------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WARNING_PREFIX = re.compile(r"^.*?\.py:\d+: \w*Warning: ")
# Printed for the shipped content too (so not why validation failed): library import
# warnings, FAQ sub-intents counted as duplicates, and intents only the NLU uses.
VALIDATOR_NOISE = (
    "MovedIn20Warning",
    "declarative_base",
    "DeprecationWarning",
    "duplicated intents have been found across multiple domain files: faq",
    "is not used in any story or rule",
)


def validator_findings(lines: Sequence[str]) -> list[str]:
    """The validator's own complaints, without what it says about valid content as well."""
    found = []
    for line in lines:
        clean = WARNING_PREFIX.sub("", ANSI.sub("", line)).strip()
        if re.search(r"\b(WARNING|ERROR|UserWarning)\b", line) and not any(
            noise in clean for noise in VALIDATOR_NOISE
        ):
            found.append(clean)
    return found or [ANSI.sub("", line).strip() for line in lines[-5:]]


def validate(content: Path) -> str:
    """``rasa data validate --fail-on-warnings`` in the content copy."""
    command = [str(RASA), "data", "validate", *data_args(content), "--fail-on-warnings"]
    status, lines = run_streamed(command, content, child_env())
    if status != 0:
        findings = validator_findings(lines)
        raise StageFailed("The content has errors: " + " | ".join(findings[:10]))
    found = lint(content)  # the studio's own checks: FAQ pairs, links, articles, phrases
    errors = [f.line() for f in found if f.level == "error"]
    if errors:
        raise StageFailed("The content has errors: " + " | ".join(errors[:10]))
    warnings = len(found)
    return "Domain, rules and training data are consistent" + (
        f"; {warnings} content warning{'s' * (warnings != 1)} (make validate lists them)."
        if warnings
        else "."
    )


# --- stage 2: train -------------------------------------------------------------------------


# The response selector's epochs take about half of a full training (2 of ~4 minutes), so
# they weigh as much as this many components in the progress.
EPOCHS_WEIGHT = 10
COMPONENTS_SEEN = ".studio-components"  # how many components the last training reported


@dataclass
class TrainProgress:
    """Follows Rasa's training log: components finished or restored, and the epochs."""

    components: int
    finished: int = 0
    restored: int = 0
    epochs: float = 0.0

    def read(self, line: str) -> str | None:
        """Update from one line of the log; what changed, or None if nothing did."""
        if match := COMPONENT_LINE.search(line):
            self.finished += 1
            self.restored += match.group(1).startswith("Restored")
            verb = "reused from the cache" if match.group(1).startswith("Restored") else "trained"
            return f"{match.group(2)} {verb}."
        match = EPOCH_LINE.search(line)
        if match and int(match.group(1)) % 10 == 0 and int(match.group(1)) / 100 > self.epochs:
            self.epochs = int(match.group(1)) / 100
            return f"Training the FAQ answer selector: {match.group(1)}% of its epochs."
        return None

    @property
    def fraction(self) -> float:
        done = self.finished + self.epochs * EPOCHS_WEIGHT
        return min(done / (self.components + EPOCHS_WEIGHT), 0.99)


def component_count(content: Path, cache: Path) -> int:
    """How many components the last training reported; at first, what config.yml lists."""
    import yaml

    seen = cache / COMPONENTS_SEEN
    if seen.exists():
        return int(seen.read_text())
    config = yaml.safe_load((content / "config.yml").read_text())
    return len(config.get("pipeline") or []) + len(config.get("policies") or [])


def train(content: Path, out: Path, cache: Path, current: Stage) -> Path:
    """``rasa train`` into ``out/model.tar.gz``, reusing Rasa's cache of unchanged components."""
    command = [str(RASA), "train", *data_args(content), "--out", str(out.resolve())]
    command += ["--fixed-model-name", "model"]
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    progress = TrainProgress(component_count(content, cache))
    run = Streamed(command, content, child_env(cache.resolve()))
    for line in run:
        tail.append(line)
        if news := progress.read(line):
            current.progress(progress.fraction, news)
    model = out / "model.tar.gz"
    if run.status != 0 or not model.exists():
        raise StageFailed("Training failed: " + " | ".join(list(tail)[-8:]))
    cache.mkdir(parents=True, exist_ok=True)
    (cache / COMPONENTS_SEEN).write_text(str(progress.finished))
    current.detail = (
        f"Trained {out / 'model.tar.gz'}: {progress.finished} components, "
        f"{progress.restored} reused from the training cache."
    )
    return model


# --- stages 3 and 4: scoring, in a child process per model ----------------------------------


def score_nlu(model: Path, content: Path, current: Stage) -> dict[str, Any]:
    """Parse every held-out set with ``model``; the make-test figures and each message judged."""
    from tools.evaluation import load_examples, predict, score

    sets = {name: content / path for name, path in NLU_SETS.items() if (content / path).exists()}
    judged: list[Judged] = []
    predictions: dict[str, list[Any]] = {}
    examples: dict[str, list[Any]] = {}
    for done, (name, path) in enumerate(sets.items(), start=1):
        started = time.monotonic()
        examples[name] = load_examples(path)
        predictions[name] = predict(model, [e.text for e in examples[name]])
        for example, prediction in zip(examples[name], predictions[name], strict=True):
            expected = example.response_key or example.intent
            if name == OUT_OF_SCOPE:
                expected = "out_of_scope"
            judged.append(Judged(name, example.text, expected, label(prediction)))
        seconds = time.monotonic() - started
        current.progress(
            done / len(sets), f"{name}: {len(examples[name])} messages, {seconds:.1f} s"
        )
    report = score(examples[HELDOUT], predictions[HELDOUT], predictions[OUT_OF_SCOPE])
    return {
        "intent_macro_f1": report.intent_macro_f1,
        "faq_accuracy": report.faq_accuracy,
        "oos_recall": report.oos_recall,
        "judged": [j.__dict__ for j in judged],
    }


def label(prediction: Any) -> str:
    """The intent a prediction names, FAQ answers by their key (``faq/shipping_cost``)."""
    if prediction.intent == "faq" and prediction.response_key:
        return str(prediction.response_key)
    return str(prediction.intent)


def escalation_sets(content: Path) -> list[Path]:
    return sorted((content / ESCALATION_DIR).glob("*.yml"))


def score_escalation(model: Path, content: Path, current: Stage) -> dict[str, Any]:
    """Replay every escalation set through ``model``: overall F1 and must-pass failures.

    All sets are parsed in one go: ``parse_turns`` loads the model each time it is called.
    """
    from tools.escalation_eval import Settings, load_conversations, parse_turns, replay, scores

    started = time.monotonic()
    settings = Settings.load(content / "escalation.yml")
    sets = {path.stem: load_conversations(path) for path in escalation_sets(content)}
    everything = [c for conversations in sets.values() for c in conversations]
    replayed = replay(everything, parse_turns(model, everything, settings), settings)
    outcomes = iter(replayed)
    results = {}
    for name, conversations in sets.items():
        mine = [next(outcomes) for _ in conversations]
        failed = tuple(
            o.conversation.id for o in mine if o.conversation.must_pass and not o.correct
        )
        results[name] = EscalationResult(scores(mine)["overall"].f1, len(mine), failed).__dict__
    # All sets pooled: what the gate's escalation floor and regression check read.
    results[POOLED] = EscalationResult(scores(replayed)["overall"].f1, len(replayed)).__dict__
    seconds = time.monotonic() - started
    current.progress(1.0, f"{len(everything)} conversations in {len(sets)} sets, {seconds:.1f} s")
    return results


def score_in_child(
    what: str, model: Path, content: Path, result: Path, current: Stage, span: tuple[float, float]
) -> Any:
    """Run ``score_nlu`` or ``score_escalation`` in a child process; forward its progress.

    The child's progress (0 to 1) is mapped onto ``span`` of the parent stage's.
    """
    command = [sys.executable, "-m", "studio.check", "score", what, str(model.resolve())]
    command += [str(result.resolve()), current.name]
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    run = Streamed(command, content, child_env(quiet=True))
    low, high = span
    for line in run:
        if line.startswith('{"stage"'):
            reported = json.loads(line)
            current.progress(low + (high - low) * reported["progress"], reported["detail"])
        else:
            tail.append(line)
    if run.status != 0:
        said = " | ".join(list(tail)[-8:]) or "no output"
        raise StageFailed(f"Scoring {model} failed (exit status {run.status}): {said}")
    return json.loads(result.read_text())


def child_main(what: str, model: Path, result: Path, stage_name: str) -> int:
    """The child's side of :func:`score_in_child`: the working directory is the content."""
    current = Stage(stage_name, sys.stdout)
    scorer = score_nlu if what == "nlu" else score_escalation
    result.write_text(json.dumps(scorer(model, Path.cwd(), current)))
    return 0


# --- the whole check ------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    content: Path
    live_model: Path
    out: Path
    cache: Path
    spacy: Path | None
    tolerance: Path


def describe_nlu(scoring: dict[str, Any]) -> str:
    return (
        f"macro-F1 {scoring['intent_macro_f1']:.3f}, FAQ accuracy {scoring['faq_accuracy']:.3f}, "
        f"out-of-scope recall {scoring['oos_recall']:.3f} over {len(scoring['judged'])} messages."
    )


def score_live(options: Options) -> dict[str, Any]:
    """The live model on the NLU sets, then on the escalation sets (quietly: it runs while
    the candidate trains, and its stage reports it when the candidate is ready)."""
    quiet = Stage("score_live", io.StringIO())
    scoring = score_in_child(
        "nlu", options.live_model, options.content, options.out / "live-nlu.json", quiet, (0, 1)
    )
    scoring["escalation"] = score_in_child(
        "escalation",
        options.live_model,
        options.content,
        options.out / "live-escalation.json",
        quiet,
        (0, 1),
    )
    return scoring


def score_both(options: Options, candidate: Path, live: Future[Any]) -> tuple[Scoring, Scoring]:
    """The live model's scoring (already under way), then the candidate's: its NLU scoring
    and its escalation replay side by side, a child process and a stage each."""
    with stage("score_live", "Scoring the live model on the held-out messages.") as s:
        scored = {"live": live.result()}
        s.detail = f"Live model: {describe_nlu(scored['live'])}"
    with ThreadPoolExecutor(1) as pool:
        with stage("score_candidate", "Scoring the candidate on the held-out messages.") as s:
            replaying = pool.submit(replay_candidate, options, candidate, scored["live"])
            path = options.out / "candidate-nlu.json"
            scored["candidate"] = score_in_child("nlu", candidate, options.content, path, s, (0, 1))
            s.detail = f"Candidate model: {describe_nlu(scored['candidate'])}"
        scored["candidate"]["escalation"] = replaying.result()
    return Scoring.from_json(scored["live"]), Scoring.from_json(scored["candidate"])


def replay_candidate(options: Options, candidate: Path, live: dict[str, Any]) -> Any:
    """The escalation conversations through the candidate, its F1 beside the live model's."""
    with stage("escalation", "Replaying the escalation conversations with the candidate.") as s:
        path = options.out / "candidate-escalation.json"
        replayed = score_in_child("escalation", candidate, options.content, path, s, (0, 1))
        s.detail = "; ".join(
            f"{name}: " + ", ".join(f"{k} F1 {v['f1']:.3f}" for k, v in scores.items())
            for name, scores in (("live", live["escalation"]), ("candidate", replayed))
        )
    return replayed


def check(options: Options) -> int:
    """Every stage in order; the exit status."""
    options.out.mkdir(parents=True, exist_ok=True)
    link_spacy_model(options.content, options.spacy)
    try:
        with stage("validate", "Checking the domain, rules and training data.") as s:
            s.detail = validate(options.content)
        # The live model is scored while the candidate trains: two processes, two cores.
        with ThreadPoolExecutor(1) as pool:
            live_scoring = pool.submit(score_live, options)
            try:
                with stage("train", "Training a candidate model from the edited content.") as s:
                    candidate = train(options.content, options.out, options.cache, s)
                live, new = score_both(options, candidate, live_scoring)
            except StageFailed:
                live_scoring.cancel()
                raise
        with stage("compare", "Comparing the candidate with the live model.") as s:
            report = compare(live, new, Tolerance.load(options.tolerance))
            path = options.out / "report.json"
            path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
            s.detail = (
                " ".join(report.reasons) or "No floor missed and nothing fell beyond the tolerance."
            )
    except StageFailed:
        return ERROR
    print(json.dumps({"stage": "done", "passed": report.passed, "report": str(path)}), flush=True)
    return PASSED if report.passed else BLOCKED


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m studio.check", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--content", type=Path, required=True, help="a copy of the content to check"
    )
    parser.add_argument("--live-model", type=Path, required=True, help="the model now serving")
    parser.add_argument("--out", type=Path, required=True, help="where the model and report go")
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "train-cache")
    parser.add_argument(
        "--spacy", type=Path, help="the spaCy model, linked in if the copy lacks it"
    )
    parser.add_argument("--tolerance", type=Path, default=REPO / "results" / "gate-tolerance.json")
    args = parser.parse_args(argv)
    resolved = {k: v.resolve() if isinstance(v, Path) else v for k, v in vars(args).items()}
    return Options(**resolved)


def main(argv: Sequence[str] = sys.argv[1:]) -> int:
    if argv[:1] == ["score"]:
        what, model, result, stage_name = argv[1:5]
        return child_main(what, Path(model), Path(result), stage_name)
    return check(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
