"""Read the labelable targets and write labelled messages into the content files.

A ``Content`` works on a content root: a checkout, or a snapshot of one in a temporary
folder. Every write is a round trip through ruamel.yaml that keeps the file's comments,
order and literal ``examples: |`` blocks, and is refused unless the new file differs from
the old one by added lines only, so ``git diff`` shows exactly what the editor added.

One message in five goes to the held-out set ``tests/nlu/from_traffic.yml`` instead of
training (``split_held_out``), so the gate can measure whether labelling helped.
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from contracts.articles import SLUG_PATTERN
from contracts.understanding import ARTICLE_LINK_PREFIX
from studio.faqs import (
    ARTICLES_DIR,
    DOMAIN_FILE,
    FAQ,
    HELD_OUT_SETS,
    KEY_PATTERN,
    NLU_DIR,
    RESPONSES_FILE,
    TEXT_LIMIT,
    checked_answer,
)
from studio.files import ContentError, YamlFile, atomic_write, load, locked
from studio.text import example_lines, normalise, one_line, plain_phrase
from tools.model_cache import TRAINING_INPUTS

__all__ = ["Content", "ContentError", "Target", "Written", "normalise", "split_held_out"]

FAQ_INTENT = FAQ
OUT_OF_SCOPE = "out_of_scope"
# `faq` is the retrieval intent's parent: messages are labelled with one of its keys.
UNLABELABLE = frozenset({FAQ_INTENT})
DESCRIPTION_LIMIT = 120
HELD_OUT_EVERY = 5
HELP_URL = ARTICLE_LINK_PREFIX

HELD_OUT_FILE = HELD_OUT_SETS[-1]  # real traffic, held out
TRAFFIC_NLU_FILE = "data/nlu/traffic.yml"
TRAFFIC_HEADER = """\
version: "3.1"

# Training examples from real customer traffic: four in five of the messages editors
# label in the studio (studio/content.py; the fifth goes to tests/nlu/from_traffic.yml).
# Labelled for intent only: the frustration model does not learn calm from them.

nlu:
"""
HELD_OUT_HEADER = """\
version: "3.1"

# Held-out NLU test set from real customer traffic: one in five of the messages editors
# label in the studio (studio/content.py). Not training data: do not copy into data/.

nlu:
"""
# What `rasa train`, `rasa data validate` and the gate read, beside the training inputs.
SNAPSHOT_EXTRA = ("data", "tests/nlu", "escalation.yml", "contracts", "bot")
SNAPSHOT_GLOBS = ("tests/escalation/*.yml",)
SPACY_MODELS = "models/spacy"


@dataclass(frozen=True)
class Target:
    """Something a message can be labelled as: an intent or an FAQ (``faq/<key>``)."""

    name: str
    kind: Literal["intent", "faq"]
    description: str
    examples: int


@dataclass(frozen=True)
class Skipped:
    """A message not written: ``duplicate`` of one ``intent`` has, or ``conflict`` with it."""

    text: str
    reason: Literal["duplicate", "conflict"]
    intent: str


@dataclass(frozen=True)
class Written:
    """What a write added, to which files (relative paths), and what it skipped and why."""

    target: str
    training: tuple[str, ...] = ()
    held_out: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    training_file: str | None = None
    held_out_file: str | None = None
    response_file: str | None = None

    @property
    def added(self) -> int:
        """How many messages were written, to training and held out together."""
        return len(self.training) + len(self.held_out)

    @property
    def duplicates(self) -> tuple[str, ...]:
        """Messages the target already had (or that the request repeated)."""
        return tuple(s.text for s in self.skipped if s.reason == "duplicate")

    @property
    def conflicts(self) -> tuple[Skipped, ...]:
        """Messages another intent already has: labelling them would contradict it."""
        return tuple(s for s in self.skipped if s.reason == "conflict")

    @property
    def files(self) -> tuple[str, ...]:
        """Every file this write changed."""
        named = (self.training_file, self.held_out_file, self.response_file)
        return tuple(path for path in named if path)


def split_held_out(texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split into (training, held out): every fifth in sha256 order of the normalised text.

    Deterministic, so the same batch always splits the same way; ``len(texts) // 5`` are
    held out, and a single message always goes to training. Both keep the input order.
    """
    ranked = sorted(range(len(texts)), key=lambda i: _digest(texts[i]))
    held = {i for rank, i in enumerate(ranked) if rank % HELD_OUT_EVERY == HELD_OUT_EVERY - 1}
    training = [text for i, text in enumerate(texts) if i not in held]
    return training, [text for i, text in enumerate(texts) if i in held]


def _digest(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def diff(before_root: Path, after_root: Path) -> str:
    """A unified diff of ``data/**`` and the traffic held-out set between two content roots."""
    names = sorted(_diffable(before_root) | _diffable(after_root))
    return "".join(_file_diff(before_root, after_root, name) for name in names)


def _diffable(root: Path) -> set[str]:
    names = {p.relative_to(root).as_posix() for p in (root / "data").rglob("*") if p.is_file()}
    if (root / HELD_OUT_FILE).is_file():
        names.add(HELD_OUT_FILE)
    return names


def _file_diff(before_root: Path, after_root: Path, name: str) -> str:
    lines = difflib.unified_diff(
        _lines(before_root / name), _lines(after_root / name), f"a/{name}", f"b/{name}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []


def _append_examples(nlu: YamlFile, intent: str, texts: Sequence[str]) -> None:
    """Add ``texts`` to the intent's block, or a new block at the end of the file."""
    if nlu.data.get("nlu") is None:
        nlu.data["nlu"] = CommentedSeq()
    items = nlu.data["nlu"]
    added = "".join(f"- {text}\n" for text in texts)
    for item in items:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = LiteralScalarString(str(item.get("examples") or "") + added)
            return
    block = CommentedMap([("intent", intent), ("examples", LiteralScalarString(added))])
    items.append(block)
    if len(items) > 1:
        items.yaml_set_comment_before_after_key(len(items) - 1, before="\n")


@dataclass
class _Known:
    """Every message the content already has, normalised, with the intent that has it."""

    intents: dict[str, str] = field(default_factory=dict)

    def add(self, intent: str, texts: Iterable[str]) -> None:
        """Record ``intent``'s messages; a message's first intent is the one it keeps."""
        for text in texts:
            self.intents.setdefault(normalise(plain_phrase(text)), intent)

    def skip_reason(self, text: str, target: str) -> Skipped | None:
        """Why ``text`` must not be written for ``target``, or None when it may."""
        owner = self.intents.get(normalise(text))
        if owner is None:
            return None
        return Skipped(text, "duplicate" if owner == target else "conflict", owner)


@dataclass(frozen=True)
class _Article:
    slug: str
    title: str


class Content:
    """The content files under ``root``: domain, NLU data, FAQ answers, held-out sets."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ reading

    def targets(self) -> list[Target]:
        """Every intent and FAQ a message can be labelled as, with its example count."""
        counts = self._example_counts()
        intents = [name for name in self._domain_intents() if name not in UNLABELABLE]
        if OUT_OF_SCOPE not in intents:
            intents.append(OUT_OF_SCOPE)
        found = [self._intent_target(name, counts) for name in intents]
        return found + [
            Target(f"{FAQ_INTENT}/{key}", "faq", answer[:DESCRIPTION_LIMIT], counts.get(key, 0))
            for key, answer in self._faq_answers().items()
        ]

    def _intent_target(self, name: str, counts: dict[str, int]) -> Target:
        if name == OUT_OF_SCOPE:
            description = "Something Larkspur support cannot help with"
        else:
            description = "e.g. " + ", ".join(f'"{t}"' for t in self._examples_of(name)[:3])
        return Target(name, "intent", description[:DESCRIPTION_LIMIT], counts.get(name, 0))

    def _domain_intents(self) -> list[str]:
        domain = YAML(typ="safe").load((self.root / DOMAIN_FILE).read_text(encoding="utf-8"))
        names = domain.get("intents") or []
        return [next(iter(n)) if isinstance(n, dict) else str(n) for n in names]

    def _faq_answers(self) -> dict[str, str]:
        """FAQ key → the text of its first answer, in the responses file's order."""
        responses = self._safe(RESPONSES_FILE).get("responses") or {}
        prefix = f"utter_{FAQ_INTENT}/"
        return {
            name[len(prefix) :]: str((variants or [{}])[0].get("text", ""))
            for name, variants in responses.items()
            if name.startswith(prefix)
        }

    def _safe(self, name: str) -> dict[str, Any]:
        path = self.root / name
        if not path.exists():
            return {}
        return YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}

    def _nlu_files(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self._nlu_paths())

    def _nlu_paths(self) -> Iterator[Path]:
        yield from (self.root / NLU_DIR).glob("*.yml")

    def _blocks(self, name: str) -> Iterator[tuple[str, list[str]]]:
        """(intent, messages) of each intent block in one NLU file."""
        for item in self._safe(name).get("nlu") or []:
            if isinstance(item, dict) and "intent" in item:
                yield str(item["intent"]), example_lines(item.get("examples"))

    def _training(self) -> Iterator[tuple[str, str, list[str]]]:
        """(file, intent, messages) of every training block."""
        for name in self._nlu_files():
            for intent, texts in self._blocks(name):
                yield name, intent, texts

    def _example_counts(self) -> dict[str, int]:
        """Training examples per intent, FAQs counted under their bare key."""
        counts: dict[str, int] = {}
        for _, intent, texts in self._training():
            key = intent.removeprefix(f"{FAQ_INTENT}/")
            counts[key] = counts.get(key, 0) + len(texts)
        return counts

    def _examples_of(self, intent: str) -> list[str]:
        return [
            plain_phrase(t) for _, name, texts in self._training() if name == intent for t in texts
        ]

    def _known(self) -> _Known:
        """Training messages first, then the held-out sets'."""
        known = _Known()
        for _, intent, texts in self._training():
            known.add(intent, texts)
        for name in HELD_OUT_SETS:
            for intent, texts in self._blocks(name):
                known.add(intent, texts)
        return known

    def _training_file(self, intent: str) -> str:
        """Every label from traffic goes to one file of its own, whatever the intent: the
        frustration model learns calm from the curated examples only (``traffic_files`` in
        config.yml), as a customer's real words are labelled for intent, not for mood."""
        return TRAFFIC_NLU_FILE

    def _articles(self) -> dict[str, _Article]:
        found = (_front_matter(p) for p in sorted((self.root / ARTICLES_DIR).glob("*.md")))
        return {a.slug: a for a in found if a is not None}

    # ------------------------------------------------------------------ writing

    def add_examples(self, target: str, texts: Sequence[str]) -> Written:
        """Label ``texts`` as ``target``: four in five into training, one into held out."""
        with locked(self.root):
            self._check_target(target)
            return self._write_examples(target, _checked_texts(texts), {})

    def new_faq(self, key: str, answer: str, article: str | None, texts: Sequence[str]) -> Written:
        """A new FAQ ``faq/<key>``: its answer (linking ``article``) and its first examples."""
        with locked(self.root):
            self._check_new_key(key)
            response = self._response_text(checked_answer(answer), article)
            cleaned = _checked_texts(texts)
            if not cleaned:
                raise ContentError("empty_text", "a new FAQ needs at least one message")
            return self._write_examples(f"{FAQ_INTENT}/{key}", cleaned, {key: response})

    def _check_target(self, target: str) -> None:
        prefix, _, key = target.partition("/")
        if prefix == FAQ_INTENT and key and not KEY_PATTERN.match(key):
            raise ContentError("invalid_key", f"'{key}' is not a valid FAQ key")
        if target not in {t.name for t in self.targets()}:
            raise ContentError("unknown_target", f"the intent '{target}' no longer exists")

    def _check_new_key(self, key: str) -> None:
        if not KEY_PATTERN.match(key):
            raise ContentError(
                "invalid_key", f"'{key}' is not a valid FAQ key: a-z, 0-9 and _, 3–41 long"
            )
        taken = set(self._faq_answers()) | {
            intent.removeprefix(f"{FAQ_INTENT}/") for _, intent, _ in self._training()
        }
        if key in taken or key in self._domain_intents():
            raise ContentError("key_taken", f"the FAQ '{key}' already exists")

    def _response_text(self, answer: str, slug: str | None) -> str:
        """The answer, with a link to the article the way the other answers link theirs."""
        if slug is None:
            return answer
        found = self._articles().get(slug) if SLUG_PATTERN.match(slug) else None
        if found is None:
            raise ContentError("unknown_article", f"there is no help article '{slug}'")
        return f"{answer} [{found.title}]({HELP_URL}{found.slug})"

    def _write_examples(self, target: str, texts: list[str], responses: dict[str, str]) -> Written:
        """Skip the known messages, split the rest and write every changed file at once."""
        fresh, skipped = self._sort_out(target, texts)
        training, held_out = split_held_out(fresh)
        plan: dict[str, YamlFile] = {}
        training_file = self._plan_examples(plan, target, training, held=False)
        held_out_file = self._plan_examples(plan, target, held_out, held=True)
        if responses:
            plan[RESPONSES_FILE] = self._planned_responses(responses)
        rendered = {name: loaded.render() for name, loaded in plan.items()}
        for name, text in rendered.items():
            atomic_write(self.root / name, text)
        return Written(
            target,
            tuple(training),
            tuple(held_out),
            tuple(skipped),
            training_file,
            held_out_file,
            RESPONSES_FILE if responses else None,
        )

    def _sort_out(self, target: str, texts: list[str]) -> tuple[list[str], list[Skipped]]:
        """(messages to write, messages skipped): known ones, and repeats within the request."""
        known = self._known()
        fresh: list[str] = []
        skipped: list[Skipped] = []
        for text in texts:
            reason = known.skip_reason(text, target)
            if reason is None:
                known.add(target, [text])
                fresh.append(text)
            else:
                skipped.append(reason)
        return fresh, skipped

    def _plan_examples(
        self, plan: dict[str, YamlFile], target: str, texts: list[str], *, held: bool
    ) -> str | None:
        """Add ``texts`` to the planned file they belong in; that file's name, if any."""
        if not texts:
            return None
        name = HELD_OUT_FILE if held else self._training_file(target)
        if name not in plan:
            plan[name] = load(self.root / name, HELD_OUT_HEADER if held else TRAFFIC_HEADER)
        _append_examples(plan[name], target, texts)
        return name

    def _planned_responses(self, responses: dict[str, str]) -> YamlFile:
        loaded = load(self.root / RESPONSES_FILE)
        section = loaded.data["responses"]
        for key, text in responses.items():
            name = f"utter_{FAQ_INTENT}/{key}"
            section[name] = CommentedSeq([CommentedMap([("text", DoubleQuotedScalarString(text))])])
            section.yaml_set_comment_before_after_key(name, before="\n")
        return loaded

    # ------------------------------------------------------------------ copying

    def snapshot(self, dest: Path) -> None:
        """Copy what ``rasa train``, ``rasa data validate`` and the gate read into ``dest``,
        between writes (a retirement or an import changes several files at once)."""
        with locked(self.root):
            self._snapshot(Path(dest))

    def _snapshot(self, dest: Path) -> None:
        names = {*TRAINING_INPUTS, *SNAPSHOT_EXTRA}
        for pattern in SNAPSHOT_GLOBS:
            names |= {p.relative_to(self.root).as_posix() for p in self.root.glob(pattern)}
        for name in sorted(names):
            _copy(self.root / name, Path(dest) / name)
        _link_spacy(self.root, Path(dest))


def _checked_texts(texts: Sequence[str]) -> list[str]:
    """The messages as one-line examples, or ContentError for an empty or too long one."""
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of messages, not one string")
    cleaned = [one_line(text) for text in texts]
    for text in cleaned:
        if not normalise(text):
            raise ContentError("empty_text", "a message is empty")
        if len(text) > TEXT_LIMIT:
            raise ContentError("text_too_long", f"a message is longer than {TEXT_LIMIT} characters")
    return cleaned


def _front_matter(path: Path) -> _Article | None:
    """The article's slug and title from its front matter, or None without one."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return None
    header = YAML(typ="safe").load(text[4:].split("\n---", 1)[0]) or {}
    slug, title = header.get("slug"), header.get("title")
    return _Article(str(slug), str(title)) if slug and title else None


def _copy(source: Path, dest: Path) -> None:
    if not source.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source, dest, ignore=ignore, dirs_exist_ok=True)
    else:
        shutil.copy2(source, dest)


def _link_spacy(root: Path, dest: Path) -> None:
    """Link the built spaCy pipeline (config.yml names it by a relative path), not copy it."""
    source, link = root / SPACY_MODELS, dest / SPACY_MODELS
    if source.is_dir() and not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source.resolve(), target_is_directory=True)
