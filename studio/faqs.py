"""FAQs as editors keep them: an answer, the article it links, its phrases, a version.

An FAQ ``faq/<key>`` is an answer in ``data/faq/responses.yml`` and the phrases of its
blocks in ``data/nlu/*.yml`` (editors' own in ``faq.yml``, labelled traffic in
``traffic.yml``); the held-out sets in ``tests/nlu`` may hold more of its messages, which
are never shown as phrases. Every FAQ has a ``version``, a digest of its answer and
phrases: an edit names the version it was based on and is refused, with the FAQ as it is
now, when someone else changed it in between.

Edits are collected in a ``Plan`` and written at once (``studio.files``): each edit is one
function applied to the round-trip data and, as the guard, to the plain data, so a file is
only written when it reads back as exactly the intended change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from contracts.articles import SLUG_PATTERN, ArticleError, parse_text
from contracts.understanding import ARTICLE_LINK_PREFIX
from studio.files import ContentError, YamlFile, delete, load, locked, rename_key, write_all
from studio.text import example_lines, normalise, one_line, plain_phrase, printable

FAQ = "faq"
RESPONSE_PREFIX = f"utter_{FAQ}/"
RESPONSES_FILE = "data/faq/responses.yml"
NLU_DIR = "data/nlu"
CURATED_FILE = "data/nlu/faq.yml"
ARTICLES_DIR = "data/articles"
DOMAIN_FILE = "domain.yml"
ESCALATION_FILE = "escalation.yml"
STORIES_FILE = "tests/test_stories.yml"  # rasa test's conversations (make test)
# A message in one of them must not also become training data; the last is real
# traffic the studio holds out (studio.content).
HELD_OUT_SETS = (
    "tests/nlu/heldout.yml",
    "tests/nlu/out_of_scope.yml",
    "tests/nlu/from_traffic.yml",
)
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
TEXT_LIMIT = 500
ANSWER_LIMIT = 1000
ANSWER_GUIDE = 400  # characters before the link: the longest shipped answer is 375
MIN_PHRASES = 12
_LINK = re.compile(r"\[([^\]]*)\]\(" + re.escape(ARTICLE_LINK_PREFIX) + r"([^)\s]*)\)")
_TRAILING_LINK = re.compile(
    r"\s*\[[^\]]*\]\(" + re.escape(ARTICLE_LINK_PREFIX) + r"([^)\s]*)\)\s*$"
)


@dataclass(frozen=True)
class Phrase:
    """One training phrase and the file it is in."""

    text: str
    file: str


@dataclass(frozen=True)
class Faq:
    """One FAQ as the studio shows it."""

    key: str
    answer: str  # what the editor writes: the response without its trailing article link
    article: str | None  # the slug of the article the answer links to
    text: str  # the response as the bot sends it
    phrases: tuple[Phrase, ...]
    held_out: int  # its messages in the held-out test sets

    @property
    def name(self) -> str:
        return f"{FAQ}/{self.key}"

    @property
    def version(self) -> str:
        """Changes whenever the answer or a phrase does."""
        state = [self.text, [[p.file, p.text] for p in self.phrases]]
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:12]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "answer": self.answer,
            "article": self.article,
            "text": self.text,
            "phrases": [{"text": p.text, "file": p.file} for p in self.phrases],
            "held_out": self.held_out,
            "version": self.version,
        }


def split_answer(text: str) -> tuple[str, str | None]:
    """(answer, article slug) of a response that ends with a help-centre link."""
    match = _TRAILING_LINK.search(text)
    if match is None:
        return text.strip(), None
    return text[: match.start()].strip(), match.group(1)


def links(text: str) -> list[str]:
    """The slugs of every help-centre link in an answer."""
    return [match.group(2) for match in _LINK.finditer(text)]


# ---------------------------------------------------------------------- edits

Edit = Callable[[Any, bool], None]  # (data, round_trip)


def _text(value: str, round_trip: bool) -> Any:
    return DoubleQuotedScalarString(value) if round_trip else value


def _block(value: str, round_trip: bool) -> Any:
    return LiteralScalarString(value) if round_trip else value


def set_response(key: str, text: str) -> Edit:
    """The FAQ's answer becomes ``text``; a new FAQ's answer goes at the end."""

    def edit(data: Any, round_trip: bool) -> None:
        section = data["responses"]
        name = RESPONSE_PREFIX + key
        if section.get(name):
            section[name][0]["text"] = _text(text, round_trip)
            return
        variant = CommentedMap([("text", _text(text, True))]) if round_trip else {"text": text}
        section[name] = CommentedSeq([variant]) if round_trip else [variant]
        if round_trip:
            section.yaml_set_comment_before_after_key(name, before="\n")

    return edit


def rename_response(old: str, new: str) -> Edit:
    def edit(data: Any, round_trip: bool) -> None:
        section = data["responses"]
        if round_trip:
            rename_key(section, RESPONSE_PREFIX + old, RESPONSE_PREFIX + new)
        else:
            section[RESPONSE_PREFIX + new] = section.pop(RESPONSE_PREFIX + old)

    return edit


def delete_response(key: str) -> Edit:
    def edit(data: Any, round_trip: bool) -> None:
        section = data["responses"]
        if round_trip:
            delete(section, RESPONSE_PREFIX + key)
        else:
            del section[RESPONSE_PREFIX + key]

    return edit


def set_examples(intent: str, lines: Sequence[str]) -> Edit:
    """The intent's block in this file holds ``lines``: replaced, added at the end, or, when
    empty, removed."""
    value = "".join(f"- {line}\n" for line in lines)

    def edit(data: Any, round_trip: bool) -> None:
        if data.get("nlu") is None:
            data["nlu"] = CommentedSeq() if round_trip else []
        items = data["nlu"]
        index = _block_index(items, intent)
        if index is None and lines:
            _append_block(items, intent, value, round_trip)
        elif index is not None and lines:
            items[index]["examples"] = _block(value, round_trip)
        elif index is not None:
            delete(items, index) if round_trip else items.pop(index)

    return edit


def rename_block(old: str, new: str) -> Edit:
    def edit(data: Any, round_trip: bool) -> None:
        index = _block_index(data.get("nlu") or [], old)
        if index is not None:
            data["nlu"][index]["intent"] = new

    return edit


def _block_index(items: Any, intent: str) -> int | None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("intent") == intent:
            return index
    return None


def _append_block(items: Any, intent: str, value: str, round_trip: bool) -> None:
    if not round_trip:
        items.append({"intent": intent, "examples": value})
        return
    items.append(CommentedMap([("intent", intent), ("examples", LiteralScalarString(value))]))
    if len(items) > 1:
        items.yaml_set_comment_before_after_key(len(items) - 1, before="\n")


@dataclass
class Plan:
    """Edits to the content files under ``root``, kept in memory until ``write``."""

    root: Path
    loaded: dict[str, YamlFile] = field(default_factory=dict)
    edits: dict[str, list[Edit]] = field(default_factory=dict)
    rewritten: dict[str, str] = field(default_factory=dict)  # files changed as plain text

    def rewrite(self, name: str, pattern: re.Pattern[str], replacement: str) -> None:
        """Replace ``pattern`` in a file that is not YAML data the studio owns (the test
        stories): only the matched text changes."""
        path = self.root / name
        source = self.rewritten.get(name) or path.read_text(encoding="utf-8")
        self.rewritten[name] = pattern.sub(replacement, source)

    def change(self, name: str, edit: Edit, default: str = "") -> None:
        if name not in self.loaded:
            self.loaded[name] = load(self.root / name, default)
            self.edits[name] = []
        edit(self.loaded[name].data, True)
        self.edits[name].append(edit)

    def render(self) -> dict[str, str]:
        """Every changed file's new text, each refused unless it reads as the edits meant."""
        return {name: loaded.render(self._expected(name)) for name, loaded in self.loaded.items()}

    def _expected(self, name: str) -> Callable[[Any], Any]:
        def apply(data: Any) -> Any:
            data = data if data is not None else {}
            for edit in self.edits[name]:
                edit(data, False)
            return data

        return apply

    def write(self) -> list[str]:
        """Write every changed file, or none; the names written."""
        texts = {**self.render(), **self.rewritten}
        changed = {n: t for n, t in texts.items() if t != _source(self, n)}
        write_all(self.root, changed)
        return sorted(changed)


def _source(plan: Plan, name: str) -> str:
    if name in plan.loaded:
        return plan.loaded[name].source
    return (plan.root / name).read_text(encoding="utf-8")


def _naming(key: str) -> re.Pattern[str]:
    """Where a file names ``faq/<key>`` as an intent, and no longer key."""
    return re.compile(rf"(intent: *){FAQ}/{re.escape(key)}(?![a-z0-9_])")


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Block:
    """One intent's examples block in one file, its lines as written."""

    file: str
    intent: str
    lines: tuple[str, ...]


class Faqs:
    """The FAQs under a content root (a checkout, or a copy of one)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._read: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
        self._titles: dict[str, str] | None = None
        self._blocks: dict[str, tuple[dict[str, Any], tuple[Block, ...]]] = {}

    def _safe(self, name: str) -> dict[str, Any]:
        """A file's plain data, read again only when the file changed."""
        path = self.root / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            return {}
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # every write is a new inode
        cached = self._read.get(name)
        if cached is None or cached[0] != stamp:
            cached = self._read[name] = (stamp, _parsed(path, name))
        return cached[1]

    def nlu_files(self) -> list[str]:
        return sorted(
            p.relative_to(self.root).as_posix() for p in (self.root / NLU_DIR).glob("*.yml")
        )

    def blocks(self, names: Iterable[str] | None = None) -> list[Block]:
        """Every intent block of the training files (or of ``names``), in file order."""
        found: list[Block] = []
        for name in self.nlu_files() if names is None else names:
            found.extend(self._file_blocks(name))
        return found

    def _file_blocks(self, name: str) -> tuple[Block, ...]:
        """One file's blocks, worked out again only when the file changed."""
        data = self._safe(name)
        cached = self._blocks.get(name)
        if cached is not None and cached[0] is data:
            return cached[1]
        blocks = tuple(
            Block(name, str(item["intent"]), tuple(example_lines(item.get("examples"))))
            for item in data.get("nlu") or []
            if isinstance(item, dict) and "intent" in item
        )
        self._blocks[name] = (data, blocks)
        return blocks

    def responses(self) -> dict[str, str]:
        """FAQ key → the text of its first answer, in the responses file's order."""
        section = self._safe(RESPONSES_FILE).get("responses") or {}
        return {
            name[len(RESPONSE_PREFIX) :]: str((variants or [{}])[0].get("text", ""))
            for name, variants in section.items()
            if name.startswith(RESPONSE_PREFIX)
        }

    def article_titles(self) -> dict[str, str]:
        """slug → title of every article whose front matter reads (read once per Faqs)."""
        if self._titles is not None:
            return self._titles
        titles: dict[str, str] = {}
        for path in sorted((self.root / ARTICLES_DIR).glob("*.md")):
            try:
                article = parse_text(path.read_text(encoding="utf-8"), path.name)
            except ArticleError:
                continue
            titles[article.slug] = article.title
        self._titles = titles
        return titles

    def intents(self) -> list[str]:
        """The domain's intents, ``faq`` (the retrieval intent's parent) among them."""
        names = self._safe(DOMAIN_FILE).get("intents") or []
        return [next(iter(n)) if isinstance(n, dict) else str(n) for n in names]

    def all(self) -> list[Faq]:
        """Every FAQ: those with an answer in the responses' order, then those without."""
        answers = self.responses()
        blocks = self.blocks()
        held = self.blocks(HELD_OUT_SETS)
        keys = list(answers)
        for block in blocks:
            key = _faq_key(block.intent)
            if key is not None and key not in keys:
                keys.append(key)
        return [self._faq(key, answers.get(key, ""), blocks, held) for key in keys]

    def get(self, key: str) -> Faq:
        found = {faq.key: faq for faq in self.all()}.get(key)
        if found is None:
            raise ContentError("unknown_faq", f"there is no FAQ '{key}'")
        return found

    @staticmethod
    def _faq(key: str, text: str, blocks: list[Block], held: list[Block]) -> Faq:
        answer, article = split_answer(text)
        intent = f"{FAQ}/{key}"
        phrases = tuple(Phrase(t, b.file) for b in blocks if b.intent == intent for t in b.lines)
        held_out = sum(len(b.lines) for b in held if b.intent == intent)
        return Faq(key, answer, article, text, phrases, held_out)

    def owners(self, skip: str | None = None) -> dict[str, tuple[str, str]]:
        """Normalised message → (intent, file) that has it: training blocks other than
        ``skip``'s first, then the held-out sets (``skip``'s included: no leak)."""
        found: dict[str, tuple[str, str]] = {}
        for block in self.blocks():
            if block.intent != skip:
                for line in block.lines:
                    found.setdefault(normalise(plain_phrase(line)), (block.intent, block.file))
        for block in self.blocks(HELD_OUT_SETS):
            for line in block.lines:
                found.setdefault(normalise(plain_phrase(line)), (block.intent, block.file))
        return found

    def named_in_policy(self, key: str) -> bool:
        path = self.root / ESCALATION_FILE
        return path.exists() and f"{FAQ}/{key}" in re.findall(
            r"[a-z_]+/[a-z0-9_]+", path.read_text(encoding="utf-8")
        )

    # ------------------------------------------------------------------ writing

    def save(
        self,
        key: str,
        version: str,
        answer: str,
        article: str | None,
        phrases: Sequence[str],
    ) -> Faq:
        """Replace an FAQ's answer, article and phrases, unless someone changed it first."""
        with locked(self.root):
            current = self._current(key, version)
            plan = Plan(self.root)
            self.plan_save(plan, current, answer, article, phrases)
            plan.write()
            return self.get(key)

    def create(self, key: str, answer: str, article: str | None, phrases: Sequence[str]) -> Faq:
        """A new FAQ with its answer and phrases (its phrases go to ``faq.yml``)."""
        with locked(self.root):
            self.check_new_key(key)
            plan = Plan(self.root)
            empty = Faq(key, "", None, "", (), 0)
            self.plan_save(plan, empty, answer, article, phrases)
            plan.write()
            return self.get(key)

    def rename(self, key: str, version: str, new_key: str) -> Faq:
        """Rename ``faq/key`` everywhere: its answer, its training and held-out blocks."""
        with locked(self.root):
            self._current(key, version)
            self._check_policy(key, "rename")
            self.check_new_key(new_key)
            plan = Plan(self.root)
            if key in self.responses():
                plan.change(RESPONSES_FILE, rename_response(key, new_key))
            for name in self._files_with(f"{FAQ}/{key}"):
                plan.change(name, rename_block(f"{FAQ}/{key}", f"{FAQ}/{new_key}"))
            if self.named_in_stories(key):
                plan.rewrite(STORIES_FILE, _naming(key), rf"\g<1>{FAQ}/{new_key}")
            plan.write()
            return self.get(new_key)

    def retire(self, key: str, version: str, destination: str) -> dict[str, Any]:
        """Remove an FAQ; its phrases, held-out messages included, join ``destination``
        (an intent or another FAQ) in the files they are in. Phrases the destination
        already has are dropped as duplicates, and counted."""
        with locked(self.root):
            faq = self._current(key, version)
            self._check_policy(key, "retire")
            self._check_destination(faq.name, destination)
            self._check_stories(key, destination)
            plan = Plan(self.root)
            moved, duplicates = self._plan_move(plan, faq.name, destination)
            if key in self.responses():
                plan.change(RESPONSES_FILE, delete_response(key))
            if self.named_in_stories(key):  # its test conversations ask the other FAQ now
                plan.rewrite(STORIES_FILE, _naming(key), rf"\g<1>{destination}")
            files = plan.write()
            return {
                "key": key,
                "destination": destination,
                "moved": moved,
                "duplicates": duplicates,
                "files": files,
            }

    def _current(self, key: str, version: str) -> Faq:
        current = self.get(key)
        if current.version != version:
            raise ContentError(
                "stale_edit",
                f"Someone changed faq/{key} after you opened it. Nothing was saved: "
                "compare with their version, then save again.",
                {"current": current.as_dict()},
            )
        return current

    def _check_policy(self, key: str, doing: str) -> None:
        if self.named_in_policy(key):
            raise ContentError(
                "named_in_policy",
                f"faq/{key} is named in {ESCALATION_FILE} (the escalation policy): ask a "
                f"developer to change the policy before you {doing} it.",
            )

    def check_new_key(self, key: str) -> None:
        if not KEY_PATTERN.match(key):
            raise ContentError(
                "invalid_key", f"'{key}' is not a valid FAQ key: a-z, 0-9 and _, 3–41 long"
            )
        taken = {faq.key for faq in self.all()} | set(self.intents())
        taken |= {b.intent.removeprefix(f"{FAQ}/") for b in self.blocks(HELD_OUT_SETS)}
        if key in taken:
            raise ContentError("key_taken", f"the FAQ or intent '{key}' already exists")

    def named_in_stories(self, key: str) -> bool:
        path = self.root / STORIES_FILE
        return path.exists() and bool(_naming(key).search(path.read_text(encoding="utf-8")))

    def _check_stories(self, key: str, destination: str) -> None:
        """The test conversations expect an FAQ answer for this FAQ's messages: another
        FAQ can take them over, an intent with other actions cannot."""
        if self.named_in_stories(key) and not destination.startswith(f"{FAQ}/"):
            raise ContentError(
                "named_in_tests",
                f"faq/{key} is in the test conversations ({STORIES_FILE}), which expect an "
                "FAQ answer: retire it into another FAQ, or ask a developer to change them.",
            )

    def _check_destination(self, name: str, destination: str) -> None:
        targets = {i for i in self.intents() if i != FAQ} | {"out_of_scope"}
        targets |= {faq.name for faq in self.all() if faq.text}
        if destination == name or destination not in targets:
            raise ContentError(
                "unknown_destination",
                f"'{destination}' is not an intent or another FAQ the phrases can move to",
            )

    def _files_with(self, intent: str) -> list[str]:
        names = [*self.nlu_files(), *HELD_OUT_SETS]
        return [b.file for b in self.blocks(names) if b.intent == intent]

    def plan_save(
        self,
        plan: Plan,
        current: Faq,
        answer: str,
        article: str | None,
        phrases: Sequence[str],
        owners: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        """Plan an FAQ's new answer and phrases: removed phrases leave the file they are in,
        new ones join the editors' file. ``owners`` (``self.owners()``), when a caller
        plans many FAQs at once and has it already."""
        text = self.response_text(checked_answer(answer), article)
        wanted = self._checked_phrases(current, phrases, owners)
        if text != current.text:
            plan.change(RESPONSES_FILE, set_response(current.key, text))
        kept = {normalise(plain_phrase(t)): t for t in wanted}  # the editor's spelling wins
        have = {normalise(plain_phrase(p.text)) for p in current.phrases}
        for block in self.blocks():
            if block.intent == current.name:
                same = (normalise(plain_phrase(t)) for t in block.lines)
                lines = [kept[n] for n in same if n in kept]
                if block.file == CURATED_FILE:
                    lines += [t for t in wanted if normalise(plain_phrase(t)) not in have]
                if list(block.lines) != lines:
                    plan.change(block.file, set_examples(current.name, lines))
        if not any(b.intent == current.name and b.file == CURATED_FILE for b in self.blocks()):
            added = [t for t in wanted if normalise(plain_phrase(t)) not in have]
            if added:
                plan.change(CURATED_FILE, set_examples(current.name, added))

    def _checked_phrases(
        self,
        current: Faq,
        phrases: Sequence[str],
        owners: dict[str, tuple[str, str]] | None = None,
    ) -> list[str]:
        if isinstance(phrases, str):
            raise TypeError("phrases must be a sequence of messages, not one string")
        cleaned = [one_line(t) for t in phrases]
        if not cleaned:
            raise ContentError("no_phrases", "an FAQ needs at least one phrase")
        owners = owners if owners is not None else self.owners(skip=current.name)
        had = {normalise(plain_phrase(p.text)) for p in current.phrases}
        seen: set[str] = set()
        for text in cleaned:
            same = normalise(plain_phrase(text))
            if not same:
                raise ContentError("empty_text", "a phrase is empty")
            if len(text) > TEXT_LIMIT:
                raise ContentError(
                    "text_too_long", f"a phrase is longer than {TEXT_LIMIT} characters"
                )
            if same in seen:
                raise ContentError("duplicate_phrase", f"'{text}' is there twice")
            seen.add(same)
            if same not in had and taken_by(owners.get(same), current.name):
                raise ContentError("phrase_taken", _taken(text, *owners[same]))
        return cleaned

    def response_text(self, answer: str, article: str | None) -> str:
        """The answer, with a link to the article the way the other answers link theirs."""
        if not article:
            return answer
        titles = self.article_titles() if SLUG_PATTERN.match(article) else {}
        if article not in titles:
            raise ContentError("unknown_article", f"there is no help article '{article}'")
        return f"{answer} [{titles[article]}]({ARTICLE_LINK_PREFIX}{article})"

    def _plan_move(self, plan: Plan, name: str, destination: str) -> tuple[int, int]:
        """Move ``name``'s lines to ``destination`` in every file that has them."""
        names = [*self.nlu_files(), *HELD_OUT_SETS]
        blocks = self.blocks(names)
        taken = {
            normalise(plain_phrase(t)) for b in blocks if b.intent == destination for t in b.lines
        }
        moved = duplicates = 0
        for block in (b for b in blocks if b.intent == name):
            there = next(
                (b for b in blocks if b.file == block.file and b.intent == destination), None
            )
            fresh = []
            for line in block.lines:
                same = normalise(plain_phrase(line))
                if same in taken:
                    duplicates += 1
                else:
                    taken.add(same)
                    fresh.append(line)
            moved += len(fresh)
            if there is None:
                plan.change(block.file, rename_block(name, destination))
                plan.change(block.file, set_examples(destination, fresh))
            else:
                plan.change(block.file, set_examples(destination, [*there.lines, *fresh]))
                plan.change(block.file, set_examples(name, []))
        return moved, duplicates


def _parsed(path: Path, name: str) -> dict[str, Any]:
    """A content file's data, or ContentError saying which file does not read and why."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except (YAMLError, UnicodeDecodeError) as error:
        raise ContentError(
            "unreadable_file", f"{name} does not read: {error}", {"file": name}
        ) from None
    if not isinstance(data, dict):
        raise ContentError("unreadable_file", f"{name} is not a YAML mapping", {"file": name})
    for section, kind in (("nlu", list), ("responses", dict), ("intents", list)):
        if data.get(section) is not None and not isinstance(data[section], kind):
            message = f"{name}: '{section}' is not a {kind.__name__}"
            raise ContentError("unreadable_file", message, {"file": name})
    return data


def _faq_key(intent: str) -> str | None:
    prefix, _, key = intent.partition("/")
    return key if prefix == FAQ and key else None


def taken_by(owner: tuple[str, str] | None, name: str) -> bool:
    """Whether a message ``owner`` has may not become a new phrase of ``name``: another
    intent's phrase, or a held-out message (``name``'s own too)."""
    return owner is not None and (owner[0] != name or owner[1] in HELD_OUT_SETS)


def _taken(text: str, intent: str, file: str) -> str:
    if file in HELD_OUT_SETS:
        return (
            f"'{text}' is in the held-out test set {file} (as {intent}): a message there "
            "must not also be a training phrase"
        )
    return f"'{text}' is already a phrase of {intent} ({file})"


def checked_answer(answer: str) -> str:
    cleaned = printable(str(answer), keep="\n").strip()
    if not cleaned:
        raise ContentError("empty_answer", "the answer is empty")
    if len(cleaned) > ANSWER_LIMIT:
        raise ContentError(
            "answer_too_long", f"the answer is longer than {ANSWER_LIMIT} characters"
        )
    return cleaned
