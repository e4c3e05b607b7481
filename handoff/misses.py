"""Which customer messages the bot probably got wrong: the studio's inbox.

A message is a miss when, at its own turn, the bot fell back, said the question is
outside what it can help with, was unsure between its top two guesses, withheld an FAQ
answer for the help-article search, or that search found nothing, or when its guess was
sure but the message is unlike the phrases that guess was trained on; or later, when the
customer's next message asked for a person or said the same again in other words, or
the customer pressed 👎 under the answer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Row

from contracts.understanding import FALLBACK_INTENT
from handoff.state import EDITING

FALLBACK, LOW_MARGIN, FAQ_TO_SEARCH, NO_ARTICLE, UNFAMILIAR = (
    "fallback",
    "low_margin",
    "faq_to_search",
    "no_article",
    "unfamiliar",
)
OUT_OF_SCOPE = "out_of_scope"  # a topic the bot does not cover (yet)
ASKED_FOR_PERSON, REPHRASED, NOT_HELPFUL = "asked_for_person", "rephrased", "not_helpful"
REASONS = (
    FALLBACK,
    OUT_OF_SCOPE,
    LOW_MARGIN,
    UNFAMILIAR,
    FAQ_TO_SEARCH,
    NO_ARTICLE,
    ASKED_FOR_PERSON,
    REPHRASED,
    NOT_HELPFUL,
)
MARGIN = 0.15  # top guess less than this ahead of the second: unsure
# The top guess's familiarity (bot/familiarity.py) below this: unlike its phrases. Chosen by
# `make bench-clusters` (results/clusters.md) on CLINC150 with 15 and 30 phrases an intent:
# it marks at most 10% of in-scope test messages and about 80% of the out-of-scope ones.
UNFAMILIAR_BELOW = 0.45
REPHRASE_WINDOW = dt.timedelta(minutes=3)
REPHRASE_SIMILARITY = 0.45  # character-trigram overlap of two consecutive messages
REQUEST_HUMAN = "request_human"
# Buttons send their payload ("/request_human"); those are not the customer's words.
_COMMAND = re.compile(r"^\s*/")


def at_turn(understanding: dict[str, Any]) -> list[str]:
    """The reasons a message is a miss, from what the bot understood of it."""
    reasons = []
    ranking = understanding.get("ranking") or []
    if understanding.get("faq_withheld"):
        reasons.append(FAQ_TO_SEARCH)
    elif understanding.get("intent") == FALLBACK_INTENT:
        reasons.append(FALLBACK)
    elif understanding.get("intent") == OUT_OF_SCOPE:
        reasons.append(OUT_OF_SCOPE)
    elif len(ranking) > 1 and float(ranking[0][1]) - float(ranking[1][1]) < MARGIN:
        reasons.append(LOW_MARGIN)
    elif (familiarity := understanding.get("familiarity")) is not None and (
        float(familiarity) < UNFAMILIAR_BELOW
    ):
        reasons.append(UNFAMILIAR)
    if understanding.get("article_found") is False:
        reasons.append(NO_ARTICLE)
    return reasons


def _trigrams(text: str) -> set[str]:
    squeezed = " " + re.sub(r"\W+", " ", text.lower()).strip() + " "
    return {squeezed[i : i + 3] for i in range(len(squeezed) - 2)}


def similar(first: str, second: str) -> float:
    """Jaccard overlap of character trigrams: typo-tolerant, no model needed."""
    a, b = _trigrams(first), _trigrams(second)
    return len(a & b) / len(a | b) if a and b else 0.0


def after_turn(
    previous: Row, understanding: dict[str, Any], text: str, at: dt.datetime
) -> list[str]:
    """What this message says about the customer's previous one."""
    if previous.understanding is None or at - previous.created_at > REPHRASE_WINDOW:
        return []
    before = (previous.understanding or {}).get("intent")
    if understanding.get("intent") == REQUEST_HUMAN and before != REQUEST_HUMAN:
        return [ASKED_FOR_PERSON]
    if similar(previous.text, text) >= REPHRASE_SIMILARITY:
        return [REPHRASED]
    return []


def counts(text: str) -> bool:
    """Whether a message is the customer's own words (not a button's payload)."""
    return bool(text.strip()) and not _COMMAND.match(text)


async def note_turn(
    app: web.Application, conversation_id: str, seq: int, understanding: dict[str, Any]
) -> None:
    """Keep what the bot understood of message ``seq``; note it, or the message before
    it, as a miss when the understanding says so."""
    editing = app[EDITING]
    await editing.understood(conversation_id, seq, understanding)
    turns = await editing.customer_turns(conversation_id, seq)
    if not turns or turns[0].seq != seq:
        return
    current, previous = turns[0], (turns[1] if len(turns) > 1 else None)
    ranking = understanding.get("ranking") or []
    if counts(current.text) and (reasons := at_turn(understanding)):
        await editing.record_miss(conversation_id, seq, current.text, reasons, ranking)
    if previous is None or not counts(previous.text):
        return
    if reasons := after_turn(previous, understanding, current.text, current.created_at):
        earlier = (previous.understanding or {}).get("ranking") or []
        await editing.record_miss(conversation_id, previous.seq, previous.text, reasons, earlier)


async def note_rating(app: web.Application, conversation_id: str, seq: int, helpful: bool) -> None:
    """Keep the customer's 👍/👎 on answer ``seq``; a 👎 makes its question a miss."""
    editing = app[EDITING]
    asked = await editing.rate_answer(conversation_id, seq, helpful)
    if not helpful and counts(asked.text):
        ranking = (asked.understanding or {}).get("ranking") or []
        await editing.record_miss(conversation_id, asked.seq, asked.text, [NOT_HELPFUL], ranking)
