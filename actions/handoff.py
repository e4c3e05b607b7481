"""Hand the conversation to a person (with the whole story), or ask once to clarify."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import settings as action_settings
from actions.outbox import get_outbox
from bot.escalation import Decision, Settings, Turn, turns_from_events

logger = logging.getLogger(__name__)

INTENT_LABELS = {
    "check_order_status": "where an order is",
    "start_return": "starting a return",
    "search_help": "a product question",
    "request_human": "talking to a person",
    "legal_threat": "a legal matter",
    "complain_about_agent": "a complaint about our staff",
    "inform_order_number": "an order",
}
SKIP_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "nlu_fallback"}
CLARIFY_BUTTONS = {
    "check_order_status": "Check an order",
    "start_return": "Start a return",
    "search_help": "A question about our gear",
}


OFFLINE_REASONS = {"outside_hours": " (we're outside our support hours)"}


def wait_text(answer: dict[str, Any]) -> str:
    """The queue's answer in words: honest, and no more precise than the estimate."""
    position, wait_s = answer.get("position"), answer.get("estimated_wait_s")
    if not position or wait_s is None:
        return "A person will join as soon as one is free."
    if wait_s < 60:
        return "You're next in line; a person should join in a moment."
    minutes = round(wait_s / 60)
    place = "next in line" if position == 1 else f"number {position} in line"
    return f"You're {place}; the wait is about {minutes} minute{'s' if minutes != 1 else ''}."


def topic(intent: str) -> str:
    """A few words an agent reads at a glance, e.g. 'faq/shipping_cost' -> 'shipping cost'."""
    if intent.startswith("faq/"):
        return intent.removeprefix("faq/").replace("_", " ")
    return INTENT_LABELS.get(intent, intent.replace("_", " "))


def reason_text(decision: Decision) -> str:
    """Why the assistant handed over, in one clause."""
    reasons = {
        "explicit_request": "the customer asked for a person",
        "sensitive_topic": f"the topic ({topic(str(decision.value))}) always goes to a person",
        "strong_negative": f"a strongly negative message (sentiment {decision.value}, "
        f"threshold {decision.threshold})",
        "negative_trend": f"the customer stayed negative (mean sentiment of recent "
        f"messages {decision.value}, threshold {decision.threshold})",
        "low_confidence": f"the assistant did not understand {decision.value} messages in a row",
    }
    return f"{reasons[decision.trigger]}, at message {decision.turn}"


def summarize(turns: list[Turn], events: list[dict[str, Any]], decision: Decision) -> str:
    """One paragraph: what the customer wanted, what the bot tried, why it handed over."""
    wanted = list(dict.fromkeys(topic(t.intent) for t in turns if t.intent not in SKIP_INTENTS))
    actions = [e.get("name") for e in events if e.get("event") == "action"]
    tried = []
    if any(t.intent.startswith("faq/") for t in turns):
        tried.append("answered FAQs")
    searches = actions.count("action_search_articles")
    if searches:
        missed = sum(t.missed for t in turns)
        tried.append(f"searched the help centre {searches} time(s), {missed} without an answer")
    if "order_status_form" in actions or "return_form" in actions:
        tried.append("asked for the order number")
    if "action_clarify" in actions:
        tried.append("asked the customer to rephrase once")
    mood = f" Their last message sounded {turns[-1].level}." if turns and turns[-1].level else ""
    return (
        f"The customer wanted help with {', '.join(wanted[:4]) or 'something not yet clear'}. "
        f"The assistant {'; '.join(tried) or 'had not answered yet'}. "
        f"Handed over because {reason_text(decision)}.{mood}"
    )


def transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every message, with who said it and when."""
    speakers = {"user": "customer", "bot": "bot"}
    return [
        {
            "speaker": speakers[e["event"]],
            "text": e.get("text") or "",
            "time": dt.datetime.fromtimestamp(e.get("timestamp") or 0, dt.timezone.utc).isoformat(),
        }
        for e in events
        if e.get("event") in speakers and (e.get("text") or e["event"] == "user")
    ]


def escalation_record(tracker: Tracker, decision: Decision) -> dict[str, Any]:
    """Everything an agent needs: reason, score trail, summary, full transcript."""
    events = list(tracker.events)
    turns = turns_from_events(events, Settings.shared())
    user_events = [e for e in events if e.get("event") == "user"]
    fired_at = user_events[-1].get("timestamp") if user_events else 0
    key_source = f"{tracker.sender_id}|{fired_at}|{decision.trigger}"
    return {
        "idempotency_key": hashlib.sha256(key_source.encode()).hexdigest()[:32],
        "conversation_id": tracker.sender_id,
        "reason": decision.as_dict(),
        "score_trail": [{"turn": i, **t.as_dict()} for i, t in enumerate(turns, start=1)],
        "summary": summarize(turns, events, decision),
        "transcript": transcript(events),
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }


class ActionHandoff(Action):
    """Sends the escalation record to the agents' queue and pauses the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        raw = tracker.get_slot("escalation") or {
            "trigger": "explicit_request",
            "value": "request_human",
            "threshold": "request",
            "turn": len(turns_from_events(list(tracker.events), Settings.shared())),
        }
        decision = Decision(**raw)
        record = escalation_record(tracker, decision)
        reference = "ESC-" + record["idempotency_key"][:6].upper()
        answer = await self._send(record, action_settings.settings())
        if decision.trigger in ("strong_negative", "negative_trend"):
            dispatcher.utter_message(response="utter_sorry_frustrating")
        if answer is None:
            dispatcher.utter_message(response="utter_handoff_queued", reference=reference)
        elif answer.get("offline"):
            why = OFFLINE_REASONS.get(answer.get("offline_reason") or "", "")
            dispatcher.utter_message(response="utter_handoff_offline", reference=reference, why=why)
        else:
            dispatcher.utter_message(
                response="utter_handoff_connecting", reference=reference, wait=wait_text(answer)
            )
        return [ActiveLoop(None), SlotSet("escalation", None), ConversationPaused()]

    @staticmethod
    async def _send(
        record: dict[str, Any], config: action_settings.Settings
    ) -> dict[str, Any] | None:
        """Store the record durably, then post it once, and return.

        The queue's answer (position, estimated wait, or why nobody is online), or None
        when the service could not be reached and the record waits in the outbox. Records
        left behind by an outage, this one included, are retried by the relay
        (``python -m actions.outbox drain --every N``), never here: an escalation must not
        wait on other customers' records.
        """
        outbox, key = get_outbox(config.outbox_database_url), record["idempotency_key"]
        outbox.add(key, record)
        try:
            answer = await outbox.deliver(key, config.handoff_url, config.handoff_service_token)
        except Exception:  # the relay retries it; the record is safe in the outbox
            logger.exception("handoff delivery failed")
            return None
        return answer


class ActionClarify(Action):
    """After the first miss (not understood, or off-topic): one request to rephrase."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        ranking = message.get("intent_ranking") or []
        guesses = [r["name"] for r in ranking if r.get("name") in CLARIFY_BUTTONS][:2]
        buttons = [{"title": CLARIFY_BUTTONS[g], "payload": f"/{g}"} for g in guesses]
        buttons.append({"title": "Talk to a person", "payload": "/request_human"})
        off_topic = (message.get("intent") or {}).get("name") == "out_of_scope"
        response = "utter_clarify_out_of_scope" if off_topic else "utter_clarify"
        dispatcher.utter_message(response=response, buttons=buttons)
        return []
