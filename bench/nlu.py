"""Intent classifiers on our held-out sets and on public datasets, with threshold sweeps.

    make bench-nlu            # full: every training message, every test message
    make bench-nlu QUICK=1    # --quick: 10 training messages per intent, 1,000 test messages
    make bench-nlu ARGS=--without-stock   # no DIET anywhere: hours shorter on 2 cores

Our held-out sets: the shipped assistant (config.yml, LogisticRegressionClassifier over word
and character counts and the sentence encoder's vector), the same without the vector (the
sparse pipeline shipped before it) and, in the full run only, with DIETClassifier in the
classifier's place, each trained as `make train` does, scored with :mod:`tools.evaluation`,
with a sweep of the FallbackClassifier threshold.

Public datasets (:mod:`bench.datasets`: CLINC150 full, BANKING77): side by side in one run,
the stock pipeline of a `rasa init --no-prompt` project (its config.yml leaves the pipeline
out, so Rasa 3.6 trains its default pipeline, DIET: read here from the installed Rasa), the
shipped pipeline (config.yml's NLU part) and the previous counts-only one. All leave out
what has nothing to learn from these datasets: the ResponseSelector (no retrieval intents)
and the frustration model (it does not touch intents). Training happens in a temporary
folder from Rasa YAML files generated there. CLINC150 is scored at the shipped fallback
rule (config.yml's threshold and ambiguity threshold) and swept over thresholds; a message
counts as out of scope when it ends as ``oos`` or ``nlu_fallback``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import datasets
from bench.report import RESULTS, table, write
from tools.evaluation import (
    HELDOUT_IN_SCOPE,
    HELDOUT_OUT_OF_SCOPE,
    Example,
    Prediction,
    Report,
    _prediction,
    load_examples,
    score,
)

BIN = Path(sys.executable).parent
THRESHOLDS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7]
PUBLIC_THRESHOLDS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
DIET = {"name": "DIETClassifier", "epochs": 100, "entity_recognition": False, "random_seed": 1}
QUICK_PER_INTENT = 10  # BANKING77 has a published 10-shot figure
QUICK_TEST = 1000
STOCK = "Rasa 3.6 default (DIET)"
SHIPPED = "shipped: counts + sentence vector (LogReg)"
SPARSE = "previous: counts only (LogReg)"
ENCODER_FEATURIZER = "SentenceEncoderFeaturizer"
# Components that read the encoder's features: the counts-only pipeline drops them too.
ENCODER_COMPONENTS = (ENCODER_FEATURIZER, "FamiliarityScorer")
# Parts of a pipeline with nothing to learn from a public intent dataset.
NOT_FOR_PUBLIC = ("ResponseSelector", "SentimentAnalyzer")
PUBLISHED = {
    "CLINC150": [
        ["BERT, oos as an intent (published)", 0.969, 0.403],
        ["MLP-USE, oos as an intent (published)", 0.935, 0.474],
        ["Rasa 2019 spacy-sklearn, oos as an intent (published)", 0.915, 0.453],
        ["DialogFlow, oos as an intent (published)", 0.917, 0.140],
        ["BERT, threshold picked on val (published)", 0.962, 0.523],
        ["MLP-USE, threshold picked on val (published)", 0.934, 0.491],
        ["Rasa 2019, threshold picked on val (published)", 0.909, 0.312],
    ],
    "BANKING77": [
        ["BERT, full training set (published)", 0.9366],
        ["USE+ConveRT, full training set (published)", 0.9336],
        ["USE+ConveRT, 10 per intent (published)", 0.8519],
    ],
}


@dataclass(frozen=True)
class Rule:
    """When a message becomes ``nlu_fallback``: Rasa's FallbackClassifier test."""

    threshold: float
    ambiguity: float

    def intent(self, prediction: Prediction) -> str:
        """The intent after the rule: top intent, or nlu_fallback if unsure or ambiguous."""
        ranking = [r for r in prediction.ranking if r[0] != "nlu_fallback"]
        if not ranking or ranking[0][1] < self.threshold:
            return "nlu_fallback"
        if len(ranking) > 1 and ranking[0][1] - ranking[1][1] < self.ambiguity:
            return "nlu_fallback"
        return ranking[0][0]

    def __str__(self) -> str:
        return f"{self.threshold} / {self.ambiguity}"


@dataclass(frozen=True)
class Run:
    """One trained pipeline's predictions on a test set and what they cost."""

    predictions: list[Prediction]
    train_s: float
    load_s: float
    parse_ms: list[float]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.parse_ms)


def fallback_rule(config: Path) -> Rule:
    """The FallbackClassifier threshold and ambiguity threshold a pipeline config sets."""
    step = next(
        s
        for s in yaml.safe_load(config.read_text())["pipeline"]
        if s["name"].endswith("FallbackClassifier")
    )
    return Rule(float(step["threshold"]), float(step.get("ambiguity_threshold", 0.1)))


def fallback_threshold(config: Path) -> float:
    """The FallbackClassifier threshold a pipeline config sets."""
    return fallback_rule(config).threshold


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


def sparse_config(source: Path, out: Path) -> Path:
    """A config without the sentence encoder (and what reads its features): the sparse
    pipeline shipped before it."""
    config = yaml.safe_load(source.read_text())
    config["pipeline"] = [
        s for s in config["pipeline"] if not s["name"].endswith(ENCODER_COMPONENTS)
    ]
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    return out


def stock_config_source() -> Path:
    """Rasa's default config: what a `rasa init --no-prompt` project trains its NLU with."""
    import rasa

    return Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"


def public_config(source: Path, out: Path) -> Path:
    """The NLU part of a config, without the parts a public intent dataset cannot train."""
    config = yaml.safe_load(source.read_text())
    config.pop("policies", None)
    config["pipeline"] = [s for s in config["pipeline"] if not s["name"].endswith(NOT_FOR_PUBLIC)]
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    return out


def rasa_env(work: Path) -> dict[str, str]:
    """No training cache (so the seconds compare full training runs), kept out of the repo."""
    return dict(os.environ, RASA_MAX_CACHE_SIZE="0", RASA_CACHE_DIRECTORY=str(work / "cache"))


def train(config: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train the whole assistant as `make train` does; return the model and its seconds."""
    return _rasa_train(
        [
            "train",
            "--config",
            str(config),
            "--domain",
            "domain.yml",
            "--data",
            "data/nlu",
            "data/faq",
            "data/dialogue",
        ],
        out,
        name,
    )


def train_nlu(config: Path, nlu: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train an NLU-only model on one generated training file, with an empty domain."""
    domain = out / "domain.yml"
    domain.write_text('version: "3.1"\n')
    args = ["train", "nlu", "--config", str(config), "--nlu", str(nlu), "--domain", str(domain)]
    return _rasa_train(args, out, name)


def _rasa_train(args: list[str], out: Path, name: str) -> tuple[Path, float]:
    started = time.monotonic()
    print(f"Training {name} …", flush=True)
    subprocess.run(  # noqa: S603 - fixed argv built here, no shell
        [str(BIN / "rasa"), *args, "--out", str(out), "--fixed-model-name", name],
        check=True,
        stdout=subprocess.DEVNULL,
        env=rasa_env(out),
    )
    return out / f"{name}.tar.gz", time.monotonic() - started


def parse(model: Path, texts: list[str], train_s: float) -> Run:
    """Load the model once, parse every text one at a time, and time both."""
    from rasa.core.agent import Agent

    async def run() -> Run:
        started = time.monotonic()
        agent = Agent.load(str(model))
        load_s = time.monotonic() - started
        predictions, parse_ms = [], []
        for text in texts:
            before = time.perf_counter()
            parsed = await agent.parse_message(text)
            parse_ms.append((time.perf_counter() - before) * 1000)
            predictions.append(_prediction(parsed))
        return Run(predictions, train_s, load_s, parse_ms)

    print(f"Parsing {len(texts)} messages with {model.name} …", flush=True)
    return asyncio.run(run())


# --- our held-out sets -------------------------------------------------------------------


def compare(
    configs: dict[str, Path], work: Path, in_scope: list[Example], oos: list[Example]
) -> tuple[list[list[object]], dict[str, list[list[float]]], Report, dict[str, Any]]:
    """Train and score each config: a table row each, its sweep, the last report, raw figures."""
    rows: list[list[object]] = []
    sweeps: dict[str, list[list[float]]] = {}
    figures: dict[str, Any] = {}
    for name, config in configs.items():
        model, seconds = train(config, work, name)
        run = parse(model, [e.text for e in in_scope + oos], seconds)
        in_preds, oos_preds = run.predictions[: len(in_scope)], run.predictions[len(in_scope) :]
        report = score(in_scope, in_preds, oos_preds)
        rows.append(
            [
                name,
                fallback_threshold(config),
                report.intent_macro_f1,
                report.faq_accuracy,
                report.oos_recall,
                f"{run.train_s:.0f}",
                f"{run.load_s:.1f}",
                f"{run.p50_ms:.1f}",
            ]
        )
        sweeps[name] = [
            [t, (r := score(in_scope, in_preds, oos_preds, t)).intent_macro_f1, r.oos_recall]
            for t in THRESHOLDS
        ]
        figures[name] = {
            "fallback_threshold": fallback_threshold(config),
            "intent_macro_f1": report.intent_macro_f1,
            "faq_accuracy": report.faq_accuracy,
            "oos_recall": report.oos_recall,
            "train_s": run.train_s,
            "load_s": run.load_s,
            "parse_ms_p50": run.p50_ms,
            "sweep": sweeps[name],
        }
    return rows, sweeps, report, figures


def heldout_sections(
    report: Report, rows: list[list[object]], sweeps: dict[str, list[list[float]]], note: str
) -> dict[str, str]:
    """The classifier table on our held-out sets, then one threshold sweep per classifier."""
    found = {
        "Classifiers on the held-out sets": (
            f"In-scope: {report.in_scope_count} messages "
            f"({report.faq_count} FAQ); out-of-scope: {report.oos_count}. "
            "Whole assistant trained as `make train` does (incl. the FAQ answer selector and "
            f"frustration model).{note}\n\n"
            + table(
                [
                    "classifier",
                    "fallback threshold",
                    "intent macro-F1",
                    "FAQ selection acc.",
                    "OOS fallback recall",
                    "train s",
                    "load s",
                    "parse ms p50",
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


# --- public datasets ---------------------------------------------------------------------


def clinc_figures(test: list[datasets.Pair], preds: list[Prediction], rule: Rule) -> list[float]:
    """In-scope accuracy and out-of-scope recall of CLINC150 test messages under a rule."""
    got = [rule.intent(p) for p in preds]
    in_scope = [(g, i) for (_, i), g in zip(test, got, strict=True) if i != datasets.OUT_OF_SCOPE]
    oos = [g for (_, i), g in zip(test, got, strict=True) if i == datasets.OUT_OF_SCOPE]
    accuracy = sum(g == i for g, i in in_scope) / len(in_scope) if in_scope else 0.0
    caught = {datasets.OUT_OF_SCOPE, "nlu_fallback"}
    recall = sum(g in caught for g in oos) / len(oos) if oos else 0.0
    return [accuracy, recall]


def banking_figures(test: list[datasets.Pair], preds: list[Prediction], rule: Rule) -> list[float]:
    """Accuracy and macro-F1 of the top intent; accuracy when fallbacks count as wrong."""
    from sklearn.metrics import f1_score

    gold = [i for _, i in test]
    top = [Rule(0.0, 0.0).intent(p) for p in preds]
    accuracy = sum(g == t for g, t in zip(gold, top, strict=True)) / len(gold)
    macro_f1 = float(f1_score(gold, top, labels=sorted(set(gold)), average="macro"))
    ruled = sum(g == rule.intent(p) for g, p in zip(gold, preds, strict=True)) / len(gold)
    return [accuracy, macro_f1, ruled]


def train_public(dataset: datasets.Dataset, configs: dict[str, Path], work: Path) -> dict[str, Run]:
    """Train every pipeline on the dataset's training messages and parse its test messages."""
    slug = dataset.name.split()[0].lower()
    nlu = datasets.write_nlu(dataset.train, work / f"{slug}-train.yml")
    texts = [text for text, _ in dataset.test]
    runs = {}
    for name, config in configs.items():
        model, seconds = train_nlu(config, nlu, work, f"{slug}-{name.split()[0].lower()}")
        runs[name] = parse(model, texts, seconds)
    return runs


def cost(run: Run) -> list[object]:
    return [f"{run.train_s:.0f}", f"{run.load_s:.1f}", f"{run.p50_ms:.1f}"]


def clinc_sections(
    dataset: datasets.Dataset, runs: dict[str, Run], rules: dict[str, Rule], shipped: Rule
) -> tuple[dict[str, str], dict[str, Any]]:
    """The CLINC150 table (ours at each rule, the published figures) and the sweep."""
    rows: list[list[object]] = []
    figures: dict[str, Any] = {}
    for name, run in runs.items():
        for label, rule in {"shipped rule": shipped, "own config's rule": rules[name]}.items():
            if label == "own config's rule" and rule == shipped:
                continue
            acc, recall = clinc_figures(dataset.test, run.predictions, rule)
            rows.append([name, f"{label} {rule}", acc, recall, *cost(run)])
            figures[f"{name} @ {rule}"] = {"in_scope_accuracy": acc, "oos_recall": recall}
        figures[name] = {"train_s": run.train_s, "load_s": run.load_s, "parse_ms_p50": run.p50_ms}
    rows += [[name, "—", acc, recall, "—", "—", "—"] for name, acc, recall in PUBLISHED["CLINC150"]]
    sweep = [
        [
            t,
            *[
                v
                for run in runs.values()
                for v in clinc_figures(dataset.test, run.predictions, Rule(t, shipped.ambiguity))
            ],
        ]
        for t in PUBLIC_THRESHOLDS
    ]
    figures["sweep"] = {"columns": ["threshold", *runs], "rows": sweep}
    oos_count = sum(i == datasets.OUT_OF_SCOPE for _, i in dataset.test)
    intro = (
        f"Trained on {len(dataset.train)} messages ({len({i for _, i in dataset.train})} intents "
        f"incl. `oos`), tested on {len(dataset.test)} ({oos_count} out of scope). A fallback "
        "rule is threshold / ambiguity threshold; out of scope = predicted `oos` or "
        "`nlu_fallback`.\n\n"
    )
    header = [
        "pipeline",
        "fallback rule",
        "in-scope accuracy",
        "OOS recall",
        "train s",
        "load s",
        "parse ms p50",
    ]
    sweep_header = ["threshold"] + [
        f"{n}: {m}" for n in runs for m in ("in-scope acc.", "OOS recall")
    ]
    return {
        dataset.name: intro + table(header, rows),
        f"{dataset.name}: threshold sweep (ambiguity {shipped.ambiguity}, test split)": table(
            sweep_header, sweep
        ),
    }, figures


def banking_sections(
    dataset: datasets.Dataset, runs: dict[str, Run], shipped: Rule
) -> tuple[dict[str, str], dict[str, Any]]:
    """The BANKING77 table: top-intent accuracy and macro-F1, and the published figures."""
    rows: list[list[object]] = []
    figures: dict[str, Any] = {}
    for name, run in runs.items():
        accuracy, macro_f1, ruled = banking_figures(dataset.test, run.predictions, shipped)
        rows.append([name, accuracy, macro_f1, ruled, *cost(run)])
        figures[name] = {
            "accuracy": accuracy,
            "macro_f1": macro_f1,
            f"accuracy_at_shipped_rule_{shipped.threshold}": ruled,
            "train_s": run.train_s,
            "load_s": run.load_s,
            "parse_ms_p50": run.p50_ms,
        }
    rows += [[name, acc, "—", "—", "—", "—", "—"] for name, acc in PUBLISHED["BANKING77"]]
    intro = (
        f"Trained on {len(dataset.train)} messages ({len({i for _, i in dataset.train})} "
        f"intents), tested on {len(dataset.test)}, all in scope. Accuracy and macro-F1 of the "
        f"top intent; the next column counts a fallback at the shipped rule ({shipped}) as "
        "wrong.\n\n"
    )
    header = [
        "pipeline",
        "accuracy",
        "macro-F1",
        "accuracy at shipped rule",
        "train s",
        "load s",
        "parse ms p50",
    ]
    return {dataset.name: intro + table(header, rows)}, figures


def public_sections(
    quick: bool, work: Path, folder: Path = datasets.DATASETS, stock: bool = True
) -> tuple[dict[str, str], dict[str, Any]]:
    """Every public dataset's sections, or its "skipped: …" line when it is not there."""
    configs = {STOCK: public_config(stock_config_source(), work / "config-stock.yml")}
    if not stock:
        configs.clear()
    configs[SHIPPED] = public_config(Path("config.yml"), work / "config-shipped.yml")
    configs[SPARSE] = sparse_config(configs[SHIPPED], work / "config-sparse.yml")
    rules = {name: fallback_rule(config) for name, config in configs.items()}
    found: dict[str, str] = {}
    figures: dict[str, Any] = {}
    for name in datasets.SOURCES:
        dataset = datasets.load(name, folder)
        if isinstance(dataset, str):
            print(dataset, flush=True)
            found[name] = dataset
            figures[name] = dataset
            continue
        if quick:
            dataset = datasets.sample(dataset, QUICK_PER_INTENT, QUICK_TEST)
        runs = train_public(dataset, configs, work)
        if dataset.out_of_scope:
            more, numbers = clinc_sections(dataset, runs, rules, rules[SHIPPED])
        else:
            more, numbers = banking_sections(dataset, runs, rules[SHIPPED])
        found.update(more)
        figures[name] = numbers
    return found, figures


# --- the results file --------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU, cores and load average, so that the seconds can be read in context."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def commit() -> str:
    """The commit measured, and whether the files that decide the figures differ from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as `make` finds it
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    paths = ["bench", "bot", "tools", "config.yml", "data"]
    dirty = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["git", "diff", "--quiet", "HEAD", "--", *paths],  # noqa: S607 - git from PATH
        check=False,
    ).returncode
    return head + (" (with uncommitted changes to bench/bot/tools/config/data)" if dirty else "")


def context(command: str, started: dict[str, Any], quick: bool, stock: bool = True) -> str:
    """The run's command, machine, commit and sample sizes."""
    ended = machine()["load_average"]
    mode = (
        f"quick: at most {QUICK_PER_INTENT} training messages per intent and "
        f"{QUICK_TEST} test messages per public dataset (seeded sample)"
        if quick
        else "full: every training and test message"
    )
    return (
        f"- command: `{command}` ({mode})\n"
        f"- machine: {started['cpu']}, {started['cores']} cores; load average "
        f"(1, 5, 15 min) {started['load_average']} at the start, {ended} at the end\n"
        f"- commit: {started['commit']}\n"
        + (
            f"- stock pipeline: Rasa's default pipeline ({stock_config_source().name} in the "
            "installed Rasa 3.6), which a `rasa init --no-prompt` project trains (its "
            "config.yml comments the pipeline out)\n"
            if stock
            else "- stock pipeline and DIETClassifier variant: **skipped** (`--without-stock`): "
            "DIET's 100 epochs over the full public sets take hours on 2 cores; "
            "`results/nlu-quick.md` has them side by side on samples\n"
        )
        + "- parse ms: one message at a time through `Agent.parse_message`, median over the "
        "test messages; load s: `Agent.load`"
    )


def references() -> str:
    """The published figures, as ../shared/datasets/README.md cites them."""
    return (
        "From `../shared/datasets/README.md`:\n\n"
        "- CLINC150 full, Larson et al. 2019 Table 2, in-scope accuracy / OOS recall. "
        "Training on oos_train as an extra intent: BERT 96.9 / 40.3, MLP-USE 93.5 / 47.4, "
        "Rasa (2019 spacy-sklearn) 91.5 / 45.3, DialogFlow 91.7 / 14.0. With a confidence "
        "threshold picked on val: BERT 96.2 / 52.3, MLP-USE 93.4 / 49.1, Rasa 90.9 / 31.2.\n"
        "- BANKING77 full: BERT 93.66, USE+ConveRT 93.36. 10-shot: USE+ConveRT 85.19 "
        "(Casanueva et al. 2020).\n\n"
        "The published threshold runs trained without `oos` and picked the threshold on val; "
        "here `oos` is trained as an intent *and* the threshold applies, and the sweep is on "
        "the test split, so compare the sweep with care."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sample for a short run")
    parser.add_argument(
        "--without-stock", action="store_true", help="train no DIET pipeline (hours shorter)"
    )
    args = parser.parse_args(argv)
    quick, stock = args.quick, not args.without_stock
    command = "make bench-nlu" + (" QUICK=1" if quick else "")
    command += "" if stock else " ARGS=--without-stock"
    started = {**machine(), "commit": commit()}
    in_scope, oos = load_examples(HELDOUT_IN_SCOPE), load_examples(HELDOUT_OUT_OF_SCOPE)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        configs = {
            "LogisticRegressionClassifier": Path("config.yml"),
            "LogisticRegressionClassifier, counts only": sparse_config(
                Path("config.yml"), work / "config-sparse.yml"
            ),
        }
        note = " DIETClassifier variant: full run only (`make bench-nlu`)." if quick else ""
        if not stock:
            note = " DIETClassifier variant: skipped (`--without-stock`)."
        elif not quick:
            configs["DIETClassifier"] = variant_config(work)
        rows, sweeps, report, heldout = compare(configs, work, in_scope, oos)
        public, public_figures = public_sections(quick, work, stock=stock)
    name = "nlu-quick" if quick else "nlu"
    found = {
        "Run": context(command, started, quick, stock),
        **heldout_sections(report, rows, sweeps, note),
        **public,
        "Published reference figures": references(),
    }
    write(name, command, found)
    results = {
        "run": {**started, "command": command, "quick": quick, "stock": stock},
        "heldout": heldout,
        **public_figures,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
