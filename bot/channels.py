"""The handoff service's door into Rasa: the REST channel, open only with the install's token.

Rasa's own REST channel answers anyone who can reach it, around the handoff service, its
redaction and its rate limits. This one (``POST /webhooks/handoff/webhook``) takes the
same body, metadata included, and refuses a request without ``Authorization: Bearer
<token>``; credentials.yml gives it the token from ``RASA_TOKEN``.

``POST /webhooks/handoff/turn`` does the same and also says what the bot understood
(``contracts.understanding``), read from the tracker once the turn is over: the studio's
inbox of misunderstood messages is built from it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.familiarity import FAMILIARITY
from contracts.understanding import (
    ARTICLE_LINK_PREFIX,
    FALLBACK_INTENT,
    FAQ_INTENT,
    TOP_GUESSES,
    TURN_PATH,
)

logger = logging.getLogger(__name__)


class HandoffInput(RestInput):
    """Rasa's REST channel behind a bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> HandoffInput:
        return cls(str((credentials or {}).get("token") or ""))

    def allows(self, request: Request) -> bool:
        """Whether the request carries the token (no token configured: nobody is let in)."""
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def only_with_token(request: Request) -> HTTPResponse | None:
            if self.allows(request):
                return None
            error = {"code": "unauthorized", "message": "Send the install's Rasa token."}
            return response.json({"error": error}, status=401)

        @webhook.route(TURN_PATH.removeprefix("/webhooks/handoff"), methods=["POST"])
        async def turn(request: Request) -> HTTPResponse:
            return await self.answer_with_understanding(request, on_new_message)

        return webhook

    async def answer_with_understanding(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """The bot's replies to one message, and what it understood of it."""
        sender = await self._extract_sender(request)
        collector = CollectingOutputChannel()
        message = UserMessage(
            self._extract_message(request),
            collector,
            sender,
            input_channel=self.name(),
            metadata=self.get_metadata(request),
        )
        try:
            await on_new_message(message)
        except Exception:  # as Rasa's REST channel: whatever was said so far is answered
            logger.exception("the turn of %s failed", sender)
            # The tracker may end at the previous message: no understanding to credit.
            return response.json({"messages": collector.messages, "understanding": None})
        agent = request.app.ctx.agent
        tracker = await agent.tracker_store.retrieve(sender)
        events = list(tracker.events) if tracker is not None else []
        understood = understanding(events, agent.model_id)
        return response.json({"messages": collector.messages, "understanding": understood})


def _last_turn(events: list[Event]) -> tuple[UserUttered | None, list[Event]]:
    """The latest customer message and every event after it."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index], events[index + 1 :]
    return None, []


def _ranking(parse_data: dict[str, Any]) -> list[list[Any]]:
    """The classifier's top guesses before the fallback, FAQs named by their answer."""
    faq = (parse_data.get("response_selector") or {}).get(FAQ_INTENT) or {}
    faq_key = (faq.get("response") or {}).get("intent_response_key")
    guesses = []
    for guess in parse_data.get("intent_ranking") or []:
        name = guess.get("name")
        if not name or name == FALLBACK_INTENT:
            continue
        guesses.append([faq_key if name == FAQ_INTENT and faq_key else name, guess["confidence"]])
    return [[name, round(float(confidence), 4)] for name, confidence in guesses[:TOP_GUESSES]]


def _familiarity(parse_data: dict[str, Any], ranking: list[list[Any]]) -> float | None:
    """How like its training phrases the top guess is (``bot.familiarity``), if scored."""
    scores = parse_data.get(FAMILIARITY) or {}
    if not ranking or ranking[0][0] not in scores:
        return None
    return round(float(scores[ranking[0][0]]), 4)


def _answer(after: Iterable[Event], parse_data: dict[str, Any]) -> dict[str, str] | None:
    """What the bot answered with, if it was an FAQ or an article."""
    for event in after:
        if isinstance(event, ActionExecuted) and (event.action_name or "").startswith("utter_faq"):
            faq = (parse_data.get("response_selector") or {}).get(FAQ_INTENT) or {}
            key = (faq.get("response") or {}).get("intent_response_key")
            return {"kind": "faq", "key": str(key)} if key else None
        if isinstance(event, BotUttered) and ARTICLE_LINK_PREFIX in (event.text or ""):
            slug = (event.text or "").split(ARTICLE_LINK_PREFIX, 1)[1].split(")", 1)[0]
            return {"kind": "article", "slug": slug.strip("/ ")}
    return None


def understanding(events: list[Event], model_id: str | None) -> dict[str, Any] | None:
    """What the bot made of the latest customer message (``contracts.understanding``)."""
    user, after = _last_turn(events)
    if user is None:
        return None
    parse_data = user.parse_data or {}
    intent = (parse_data.get("intent") or {}).get("name")
    ranking = _ranking(parse_data)
    article_found = next(
        (bool(e.value) for e in after if isinstance(e, SlotSet) and e.key == "article_found"),
        None,
    )
    return {
        "intent": intent,
        "confidence": round(float((parse_data.get("intent") or {}).get("confidence") or 0), 4),
        "ranking": ranking,
        "answer": _answer(after, parse_data),
        "faq_withheld": intent == FALLBACK_INTENT
        and bool(ranking)
        and str(ranking[0][0]).startswith(FAQ_INTENT + "/"),
        "article_found": article_found,
        "familiarity": _familiarity(parse_data, ranking),
        "model": model_id,
    }
