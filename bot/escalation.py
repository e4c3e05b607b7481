"""The escalation decision: given the customer's turns so far, should a person take over?

One deterministic function, :func:`decide`, used by the Rasa policy that hands over
(:mod:`bot.escalation_policy`), by the action that builds the escalation record, and by
``make bench-escalation``. Its thresholds come from ``escalation.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from contracts.triggers import (  # noqa: F401 - re-exported for the policy and the benches
    EXPLICIT,
    LOW_CONFIDENCE,
    NEGATIVE_TREND,
    SENSITIVE,
    STRONG_NEGATIVE,
    TRIGGERS,
)

SETTINGS_FILE = Path("escalation.yml")


@dataclass(frozen=True)
class Settings:
    """Thresholds of every trigger (see escalation.yml for their meaning)."""

    human_intents: tuple[str, ...] = ("request_human",)
    human_min_confidence: float = 0.7
    human_phrases: tuple[str, ...] = ()
    typo_words: tuple[str, ...] = ()
    sensitive_intents: tuple[str, ...] = ()
    sensitive_min_confidence: float = 0.8
    miss_intents: tuple[str, ...] = ("out_of_scope",)
    strong_negative: float = -0.6
    trend_window: int = 3
    trend_threshold: float = -0.35
    trend_each: float = -0.2
    max_misses: int = 2
    acknowledge_below: float = -0.25
    _phrases: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(p, re.IGNORECASE) for p in self.human_phrases)
        object.__setattr__(self, "_phrases", compiled)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        unknown = set(raw) - {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        if unknown:
            raise ValueError(f"unknown escalation settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return cls(**values)

    @classmethod
    def load(cls, path: Path = SETTINGS_FILE) -> Settings:
        return cls.from_dict(yaml.safe_load(path.read_text()) or {})

    @staticmethod
    @lru_cache(maxsize=1)
    def shared() -> Settings:
        """escalation.yml, read once per process (the action server's copy)."""
        return Settings.load()

    def as_dict(self) -> dict[str, Any]:
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in asdict(self).items()
            if not k.startswith("_")
        }

    def asks_for_human(self, text: str) -> bool:
        text = correct_typos(text, self.typo_words)
        return any(p.search(text) for p in self._phrases)


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter inserted, deleted, replaced, or two neighbours swapped (or no change)."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) != 2:
            return len(diff) == 1
        i, j = diff
        return j == i + 1 and (a[i], a[j]) == (b[j], b[i])
    short, long = sorted((a, b), key=len)
    return len(long) - len(short) == 1 and any(
        long[:i] + long[i + 1 :] == short for i in range(len(long))
    )


def correct_typos(text: str, words: Sequence[str]) -> str:
    """Replace each word of four or more letters one typo away from one of ``words``."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        return next((w for w in words if _one_edit_apart(lower, w)), word)

    return re.sub(r"[A-Za-z]{4,}", fix, text) if words else text


@dataclass(frozen=True)
class Turn:
    """What the assistant knew about one customer message."""

    text: str
    intent: str  # full intent name, e.g. "faq/close_account" or "nlu_fallback"
    confidence: float
    sentiment: float
    missed: bool = False  # not understood: low confidence and no help article either
    level: str = ""  # the frustration model's most likely level, e.g. "angry", for agents

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """Why a person takes over: the trigger, the value that fired it, its threshold."""

    trigger: str
    value: float | str
    threshold: float | str
    turn: int  # 1-based index of the customer turn that fired

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def consecutive_misses(turns: Sequence[Turn]) -> int:
    """How many of the latest turns in a row were not understood."""
    count = 0
    for turn in reversed(turns):
        if not turn.missed:
            break
        count += 1
    return count


def decide(turns: Sequence[Turn], settings: Settings) -> Decision | None:
    """Check the latest turn against every trigger, in order; the first that fires wins."""
    if not turns:
        return None
    latest, index = turns[-1], len(turns)
    confident = latest.confidence >= settings.human_min_confidence
    if (latest.intent in settings.human_intents and confident) or settings.asks_for_human(
        latest.text
    ):
        return Decision(EXPLICIT, latest.intent, "request", index)
    sure = latest.confidence >= settings.sensitive_min_confidence
    if latest.intent in settings.sensitive_intents and sure:
        return Decision(SENSITIVE, latest.intent, "always", index)
    if latest.sentiment <= settings.strong_negative:
        return Decision(
            STRONG_NEGATIVE, round(latest.sentiment, 4), settings.strong_negative, index
        )
    if trend := _negative_trend(turns, settings):
        return Decision(NEGATIVE_TREND, *trend, index)
    misses = consecutive_misses(turns)
    if misses >= settings.max_misses:
        return Decision(LOW_CONFIDENCE, misses, settings.max_misses, index)
    return None


def _negative_trend(turns: Sequence[Turn], settings: Settings) -> tuple[float, float | str] | None:
    """The window's mean sentiment and the threshold it crossed, if it crossed one.

    Negative on average (mean at or below ``trend_threshold``), or persistently so: every
    turn in the window at or below ``trend_each`` (threshold reported as ``each <= x``).
    """
    window = [t.sentiment for t in turns[-settings.trend_window :]]
    if len(window) < settings.trend_window:
        return None
    mean = round(sum(window) / len(window), 6)  # no float noise at the threshold
    if mean <= settings.trend_threshold:
        return round(mean, 4), settings.trend_threshold
    if max(window) <= settings.trend_each:
        return round(mean, 4), f"each <= {settings.trend_each}"
    return None


def should_acknowledge(sentiment: float, settings: Settings) -> bool:
    """Mild frustration that doesn't escalate: say sorry before answering."""
    return settings.strong_negative < sentiment <= settings.acknowledge_below


def understood(parse: dict[str, Any]) -> tuple[str, float]:
    """The intent a parse names (a FAQ answer by its key) and how sure the model is of it.

    A FAQ answer is only as sure as both steps that chose it: that the message is a FAQ
    question (the intent's confidence) and which answer it wants (the response selector's),
    so its confidence is their product. A goodbye that the intent classifier took for a
    question is not then a confident "close my account" to the sensitive-topic trigger.
    """
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "nlu_fallback")
    confidence = float(intent.get("confidence") or 0.0)
    answer = (parse.get("response_selector") or {}).get(name, {}).get("response") or {}
    if answer.get("intent_response_key"):
        return str(answer["intent_response_key"]), confidence * float(answer.get("confidence", 0))
    return str(intent.get("full_retrieval_intent_name") or name), confidence


def _turn(event: dict[str, Any]) -> Turn:
    parse = event.get("parse_data") or {}
    name, confidence = understood(parse)
    sentiment = parse.get("sentiment") or {}
    return Turn(
        text=event.get("text") or "",
        intent=name,
        confidence=confidence,
        sentiment=float(sentiment.get("score", 0.0)),
        level=str(sentiment.get("level", "")),
    )


def turns_from_events(
    events: Sequence[dict[str, Any]], settings: Settings | None = None
) -> list[Turn]:
    """The customer's turns since the session started or a person handed back.

    A turn is missed when its intent is one the assistant can't help with (``miss_intents``,
    out of scope) or when the help-article search that followed it set the slot
    ``article_found`` to false.
    """
    turns: list[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind in ("session_started", "resume"):
            turns = []
        elif kind == "user":
            turn = _turn(event)
            missed = turn.intent in (settings or Settings()).miss_intents
            turns.append(Turn(**{**turn.as_dict(), "missed": missed}))
        elif kind == "slot" and event.get("name") == "article_found" and turns:
            turns[-1] = Turn(**{**turns[-1].as_dict(), "missed": event.get("value") is False})
    return turns
