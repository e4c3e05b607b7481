"""The help-article search action."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import MIN_SCORE, MIN_SCORE_ASKED, Hit, get_index
from contracts.articles import MAX_ANSWER_CHARS, quote

__all__ = ["MAX_ANSWER_CHARS", "ActionSearchArticles", "format_answer"]

logger = logging.getLogger(__name__)


def format_answer(hit: Hit) -> str:
    """The passage, cut at a sentence end if long, and a link to the whole article."""
    return quote(hit.passage)


class ActionSearchArticles(Action):
    """Answers from the help centre, or records a miss (slot ``article_found``)."""

    def name(self) -> str:
        return "action_search_articles"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        question = message.get("text") or ""
        if not question.strip():
            dispatcher.utter_message(response="utter_default")
            return []
        asked = (message.get("intent") or {}).get("name") == "search_help"
        try:
            hit = get_index().search(question, MIN_SCORE_ASKED if asked else MIN_SCORE)
        except Exception:  # a broken article must not break the chat
            logger.exception("help-article search failed")
            hit = None
        if hit is None:
            # A miss: the escalation policy follows with one clarification or the handoff.
            return [SlotSet("article_found", False)]
        dispatcher.utter_message(response="utter_article", answer=format_answer(hit))
        return [SlotSet("article_found", True)]
