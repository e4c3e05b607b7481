"""The studio's content writer, on a copy of the real content files."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from studio.content import (
    HELD_OUT_FILE,
    TRAFFIC_NLU_FILE,
    Content,
    ContentError,
    diff,
    normalise,
    split_held_out,
)
from tests.helpers.content import RASA, copy_content, rasa_validate

REPO = Path(__file__).resolve().parents[2]
TRADE_IN = [
    "can i trade in my old tent",
    "do you do trade ins",
    "trade in program?",
    "swap my old boots for store credit",
    "exchange used gear for credit",
    "how much do I get for trading in a pack",
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the content files that the test may write into."""
    return copy_content(tmp_path / "content")


@pytest.fixture
def before(tmp_path: Path) -> Path:
    """An untouched copy, to compare with."""
    return copy_content(tmp_path / "before")


def _nlu(path: Path) -> dict[str, list[str]]:
    """intent → messages of an NLU file, read independently of the studio."""
    blocks = YAML(typ="safe").load(path.read_text()).get("nlu") or []
    return {
        b["intent"]: [line[2:] for line in b["examples"].splitlines() if line.startswith("- ")]
        for b in blocks
        if "intent" in b
    }


def _changes(before: Path, after: Path) -> list[str]:
    """The diff lines of one file other than its additions."""
    old = before.read_text().splitlines() if before.exists() else []
    lines = difflib.unified_diff(old, after.read_text().splitlines(), lineterm="", n=0)
    return [
        line for line in lines if not line.startswith(("+", "@@")) and line not in ("--- ", "+++ ")
    ]


def _only_additions(before: str, after: str) -> bool:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return all(line.startswith(("+", "@@")) or line in ("--- ", "+++ ") for line in lines)


def test_normalise_ignores_case_spacing_and_surrounding_punctuation() -> None:
    assert normalise("  Where's my   ORDER?!  ") == "where's my order"
    assert normalise("...hi...") == "hi"
    assert normalise("?!") == ""


def test_split_holds_out_one_in_five_deterministically() -> None:
    texts = [f"message number {i}" for i in range(12)]
    training, held_out = split_held_out(texts)
    assert len(held_out) == 2
    assert sorted(training + held_out) == sorted(texts)
    assert split_held_out(list(reversed(texts)))[1] == list(reversed(held_out))
    assert split_held_out(["only one"]) == (["only one"], [])
    assert split_held_out(texts[:4])[1] == []


def test_targets_list_intents_faqs_and_out_of_scope(root: Path) -> None:
    targets = {t.name: t for t in Content(root).targets()}
    assert "faq" not in targets
    assert targets["out_of_scope"].kind == "intent"
    assert targets["greet"].examples > 10
    shipping = targets["faq/shipping_cost"]
    assert shipping.kind == "faq"
    assert shipping.description.startswith("Standard US shipping")
    assert len(shipping.description) == 120
    assert shipping.examples == len(_nlu(root / "data/nlu/faq.yml")["faq/shipping_cost"])


def test_add_examples_writes_the_traffic_file_and_holds_one_out(root: Path, before: Path) -> None:
    texts = [
        "can you book me a flight to denver next tuesday",
        "whats the best pizza place near asheville",
        "do you sell used cars or trucks",
        "who is the prime minister of norway",
        "recommend a good horror movie for tonight",
    ]
    written = Content(root).add_examples("out_of_scope", texts)
    assert written.training_file == TRAFFIC_NLU_FILE
    assert written.held_out_file == HELD_OUT_FILE
    assert (len(written.training), len(written.held_out), written.added) == (4, 1, 5)
    assert _nlu(root / TRAFFIC_NLU_FILE) == {"out_of_scope": list(written.training)}
    assert _nlu(root / HELD_OUT_FILE) == {"out_of_scope": list(written.held_out)}
    for name in ("data/nlu/core.yml", "data/nlu/faq.yml"):  # the curated files stay as they were
        assert (root / name).read_bytes() == (before / name).read_bytes()
    assert (root / TRAFFIC_NLU_FILE).read_text().startswith('version: "3.1"\n\n# Training')
    traffic = root / TRAFFIC_NLU_FILE
    first = traffic.read_text()
    Content(root).add_examples("out_of_scope", ["what's the weather in reno tomorrow"])
    assert _only_additions(first, traffic.read_text())
    assert (root / HELD_OUT_FILE).read_text().startswith('version: "3.1"\n\n# Held-out')


def test_only_the_written_files_change_and_diff_shows_them(root: Path, before: Path) -> None:
    Content(root).add_examples("faq/shipping_cost", ["shipping to alaska how much"])
    text = diff(before, root)
    assert "+++ b/data/nlu/traffic.yml" in text
    assert "+    - shipping to alaska how much" in text
    assert "core.yml" not in text and "faq.yml" not in text
    assert diff(before, before) == ""


def test_known_messages_are_skipped_as_duplicates_or_conflicts(root: Path) -> None:
    written = Content(root).add_examples(
        "greet",
        ["Hello!!", "  HEY   there ", "i'm going to sue you", "hi folks, morning", "hi folks"],
    )
    assert written.duplicates == ("Hello!!", "HEY there")
    assert [(c.text, c.intent) for c in written.conflicts] == [
        ("i'm going to sue you", "legal_threat")
    ]
    assert written.training == ("hi folks, morning", "hi folks")
    assert "i'm going to sue you" not in _nlu(root / "data/nlu/core.yml")["greet"]


def test_held_out_and_annotated_messages_count_as_known(root: Path) -> None:
    written = Content(root).add_examples(
        "check_order_status", ["hey there", "where is my order LS-123456", "howdy folks"]
    )
    # "howdy folks" is in tests/nlu/heldout.yml under greet: never train on a test message.
    assert {c.text for c in written.conflicts} == {"hey there", "howdy folks"}
    repeat = Content(root).add_examples("check_order_status", ["Where is my order LS-123456?"])
    assert repeat.duplicates == ("Where is my order LS-123456?",)


def test_repeats_within_one_request_are_written_once(root: Path) -> None:
    written = Content(root).add_examples("thanks", ["cheers mate!", "Cheers mate"])
    assert written.training == ("cheers mate!",)
    assert written.duplicates == ("Cheers mate",)


@pytest.mark.parametrize(
    ("target", "texts", "code"),
    [
        ("greet", ["  ", "hi"], "empty_text"),
        ("greet", ["x" * 501], "text_too_long"),
        ("ask_weather", ["hi"], "unknown_target"),
        ("faq/no_such_key", ["hi"], "unknown_target"),
        ("faq", ["hi"], "unknown_target"),
        ("faq/Bad Key", ["hi"], "invalid_key"),
    ],
)
def test_invalid_requests_write_nothing(
    root: Path, before: Path, target: str, texts: list[str], code: str
) -> None:
    with pytest.raises(ContentError) as raised:
        Content(root).add_examples(target, texts)
    assert raised.value.code == code
    assert raised.value.message
    assert diff(before, root) == ""


def test_unknown_target_message_names_it(root: Path) -> None:
    with pytest.raises(ContentError, match="the intent 'ask_weather' no longer exists"):
        Content(root).add_examples("ask_weather", ["hi"])


def test_a_message_is_written_on_one_line(root: Path) -> None:
    Content(root).add_examples("thanks", ["thanks\nso   much\tfor that"])
    assert _nlu(root / TRAFFIC_NLU_FILE)["thanks"][-1] == "thanks so much for that"


def test_new_faq_writes_examples_response_and_article_link(root: Path, before: Path) -> None:
    answer = 'We don\'t take "trade-ins" yet, but our repairs programme can fix most gear.'
    written = Content(root).new_faq("trade_in", answer, "repairs-program", TRADE_IN)
    assert written.files == (TRAFFIC_NLU_FILE, HELD_OUT_FILE, "data/faq/responses.yml")
    assert (len(written.training), len(written.held_out)) == (5, 1)
    assert _nlu(root / TRAFFIC_NLU_FILE)["faq/trade_in"] == list(written.training)
    responses = YAML(typ="safe").load((root / "data/faq/responses.yml").read_text())
    [response] = responses["responses"]["utter_faq/trade_in"]
    title = "Repairs program"
    assert title in (root / "data/articles/repairs-program.md").read_text()
    link = f"[{title}](https://larkspur-outdoor.example/help/repairs-program)"
    assert response == {"text": f"{answer} {link}"}
    assert _changes(before / "data/faq/responses.yml", root / "data/faq/responses.yml") == []
    target = {t.name: t for t in Content(root).targets()}["faq/trade_in"]
    assert (target.kind, target.examples) == ("faq", 5)


def test_new_faq_without_article_is_the_bare_answer(root: Path) -> None:
    Content(root).new_faq("gear_rental", "We don't rent gear.", None, ["can i rent a tent"])
    responses = YAML(typ="safe").load((root / "data/faq/responses.yml").read_text())
    assert responses["responses"]["utter_faq/gear_rental"] == [{"text": "We don't rent gear."}]


@pytest.mark.parametrize(
    ("key", "answer", "article", "texts", "code"),
    [
        ("Trade-In", "ok", None, ["hi there"], "invalid_key"),
        ("ab", "ok", None, ["hi there"], "invalid_key"),
        ("shipping_cost", "ok", None, ["hi there"], "key_taken"),
        ("greet", "ok", None, ["hi there"], "key_taken"),
        ("trade_in", "  ", None, ["hi there"], "empty_answer"),
        ("trade_in", "x" * 1001, None, ["hi there"], "answer_too_long"),
        ("trade_in", "ok", "no-such-article", ["hi there"], "unknown_article"),
        ("trade_in", "ok", "../README", ["hi there"], "unknown_article"),
        ("trade_in", "ok", None, [], "empty_text"),
        ("trade_in", "ok", None, ["x" * 600], "text_too_long"),
    ],
)
def test_invalid_new_faq_writes_nothing(
    root: Path,
    before: Path,
    key: str,
    answer: str,
    article: str | None,
    texts: list[str],
    code: str,
) -> None:
    with pytest.raises(ContentError) as raised:
        Content(root).new_faq(key, answer, article, texts)
    assert raised.value.code == code
    assert diff(before, root) == ""


def test_writes_keep_the_file_mode_and_leave_no_temporary_files(root: Path) -> None:
    responses = root / "data/faq/responses.yml"
    responses.chmod(0o640)
    Content(root).new_faq("gear_rental", "We don't rent gear.", None, ["can i rent a tent"])
    assert responses.stat().st_mode & 0o777 == 0o640
    nlu = root / "data/nlu"
    assert sorted(p.name for p in nlu.iterdir()) == ["core.yml", "faq.yml", "traffic.yml"]
    assert sorted(p.name for p in responses.parent.iterdir()) == ["responses.yml"]


def test_snapshot_copies_the_training_inputs(root: Path, tmp_path: Path) -> None:
    dest = tmp_path / "snapshot"
    Content(REPO).snapshot(dest)
    for name in (
        "domain.yml",
        "config.yml",
        "escalation.yml",
        "data/nlu/faq.yml",
        "tests/nlu/heldout.yml",
        "bot/classifiers.py",
        "contracts/triggers.py",
    ):
        assert (dest / name).read_bytes() == (REPO / name).read_bytes(), name
    assert list(dest.rglob("__pycache__")) == []


def _faq_pairs(root: Path) -> tuple[set[str], set[str]]:
    nlu = [k for path in sorted((root / "data/nlu").glob("*.yml")) for k in _nlu(path)]
    keys = {k.removeprefix("faq/") for k in nlu if k.startswith("faq/")}
    responses = YAML(typ="safe").load((root / "data/faq/responses.yml").read_text())
    return keys, {k.removeprefix("utter_faq/") for k in responses["responses"]}


@pytest.mark.skipif(not RASA.exists(), reason=f"{RASA} is not installed")
def test_written_content_passes_rasa_data_validate(root: Path) -> None:
    content = Content(root)
    content.add_examples("out_of_scope", ["can you book me a flight", "recommend a movie"])
    content.add_examples("faq/shipping_cost", ["shipping to alaska how much"])
    content.new_faq("trade_in", "We don't take trade-ins yet.", "repairs-program", TRADE_IN)
    # rasa data validate does not pair FAQ examples with answers: check that here.
    keys, answers = _faq_pairs(root)
    assert keys == answers
    done = rasa_validate(root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
