"""Order status and return flows: form validation and the actions that answer.

An order is shown only to a customer who gives its number and a second factor: the
order's email address or its billing postcode. Nothing says which of the two was wrong,
so a miss tells nobody whether a number exists. Every checked pair is counted per
conversation in the store database (so restarting the form does not reset it): after
``MAX_LOOKUP_MISSES`` misses, or ``MAX_LOOKUPS_PER_WINDOW`` lookups within
``LOOKUP_WINDOW``, the conversation looks up no more orders and is offered a person.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.settings import settings
from actions.store import Order, ReturnDecision, StoreUnavailable, get_store
from contracts.orders import ORDER_NUMBER_RE, normalize_order_number
from contracts.pii import EMAIL_DIGESTS, email_digest

logger = logging.getLogger(__name__)

MAX_ORDER_NUMBER_ATTEMPTS = 2
MAX_LOOKUP_MISSES = 3  # in one conversation, for good
MAX_LOOKUPS_PER_WINDOW = 10  # checked pairs, matched or not, in one conversation
LOOKUP_WINDOW = dt.timedelta(hours=1)
STOP_FORM = {"requested_slot": None}
VERIFIED = "order_verified"  # slot: the order number whose second factor matched
# What the extraction hands to the validation: the customer answered the question. The
# answer itself is read again from the message and never kept in a slot.
ANSWERED = "answered"
# Intents that mean the customer did something else than answer (the form steps aside).
NOT_AN_ANSWER = ("faq", "request_human", "search_help", "out_of_scope", "bot_challenge", "goodbye")
REDACTED_EMAIL = "[email]"  # what the handoff service leaves of an email address
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
DIGEST_RE = re.compile(r"[0-9a-f]{64}")
POSTCODE_RE = re.compile(
    r"""\b(?:
        [A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}   # United Kingdom: EH1 2NG, SW1A 1AA
      | [A-Z]\d[A-Z]\s?-?\s?\d[A-Z]\d       # Canada: M5V 2T6
      | \d{4}\s?[A-Z]{2}                    # Netherlands: 1012 AB
      | \d{4}-\d{3} | \d{2}-\d{3}           # Portugal, Poland: 1000-001, 00-950
      | \d{5}(?:-\d{4})?                    # United States (ZIP, ZIP+4), most of the EU
      | \d{4}                               # Austria, Belgium, Denmark, Switzerland …
    )\b""",
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)


def normalize_postcode(postcode: str) -> str:
    """Upper case without spaces or dashes; a US ZIP+4 compares as its five-digit ZIP."""
    compact = re.sub(r"[\s-]", "", postcode.upper())
    return compact[:5] if re.fullmatch(r"\d{9}", compact) else compact


@dataclass(frozen=True)
class SecondFactor:
    """What a customer offered as proof: an email digest or a normalised postcode."""

    kind: str  # email|postcode
    value: str

    def matches(self, order: Order, key: str) -> bool:
        if self.kind == "email":
            expected = email_digest(key, order.customer_email)
        else:
            expected = normalize_postcode(order.billing_postcode)
        return hmac.compare_digest(expected.encode(), self.value.encode())


def read_second_factor(message: dict[str, Any], key: str) -> SecondFactor | None:
    """The one email address or postcode in a customer message, else None.

    An email arrives as a digest in the metadata (the handoff service redacted the text)
    or, typed straight to Rasa, in the text. More than one is no answer: one message
    must not try several.
    """
    text = str(message.get("text") or "")
    digests = _email_digests(message.get("metadata") or {}, text, key)
    if digests:
        return SecondFactor("email", digests.pop()) if len(digests) == 1 else None
    rest = ORDER_NUMBER_RE.sub(" ", EMAIL_RE.sub(" ", text.replace(REDACTED_EMAIL, " ")))
    postcodes = {normalize_postcode(found) for found in POSTCODE_RE.findall(rest)}
    return SecondFactor("postcode", postcodes.pop()) if len(postcodes) == 1 else None


def _email_digests(metadata: dict[str, Any], text: str, key: str) -> set[str]:
    sent = metadata.get(EMAIL_DIGESTS) if isinstance(metadata, dict) else None
    digests = {d.lower() for d in (sent if isinstance(sent, list) else []) if isinstance(d, str)}
    digests = {d for d in digests if DIGEST_RE.fullmatch(d)}
    return digests | {email_digest(key, email) for email in EMAIL_RE.findall(text)}


def lookups_locked(sender_id: str, now: dt.datetime) -> bool:
    """True once the conversation missed too often or looked up too much lately."""
    count = get_store().count_lookups(sender_id, now - LOOKUP_WINDOW)
    return count.misses >= MAX_LOOKUP_MISSES or count.recent >= MAX_LOOKUPS_PER_WINDOW


def check_pair(sender_id: str, number: str, factor: SecondFactor) -> Order | None:
    """The order, if ``number`` exists and ``factor`` is its own; every call is counted."""
    now = _now()
    store = get_store()
    order = store.find_order(number)
    matched = order is not None and factor.matches(order, settings().pii_key)
    store.record_lookup(sender_id, matched, now)
    return order if matched else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _date(day: dt.date | None) -> str:
    return day.strftime("%A, %B %-d") if day else "soon"


def describe_status(order: Order) -> str:
    """One or two sentences a customer can act on, for each order status."""
    if order.status == "processing":
        return (
            f"Order {order.number} ({order.items}) is being packed at our warehouse and "
            "hasn't shipped yet. You'll get an email with tracking as soon as it leaves."
        )
    if order.status == "shipped":
        return (
            f"Order {order.number} ({order.items}) shipped with {order.carrier} on "
            f"{_date(order.shipped_on)}, tracking number {order.tracking_number}. "
            f"It should arrive by {_date(order.estimated_delivery)}."
        )
    if order.status == "delivered":
        return (
            f"Order {order.number} ({order.items}) was delivered by {order.carrier} on "
            f"{_date(order.delivered_on)}. If you can't find it, tell me and I'll help."
        )
    return f"Order {order.number} ({order.items}) was cancelled, so nothing will ship."


def describe_return_refusal(order: Order, decision: ReturnDecision) -> str:
    """Why an order can't be returned, honestly and with what the customer can do."""
    reasons = {
        "already_returned": f"A return for order {order.number} is already open "
        f"({decision.existing_rma}); the label was emailed to you.",
        "cancelled": f"Order {order.number} was cancelled, so there's nothing to return.",
        "not_delivered": f"Order {order.number} hasn't been delivered yet. Once it arrives "
        "you'll have 45 days to return it.",
        "final_sale": f"I'm sorry, order {order.number} was a final-sale item, which can't be "
        "returned. If it's faulty, our Larkspur Promise warranty still covers it.",
        "window_closed": f"I'm sorry, the 45-day return window for order {order.number} "
        f"closed on {_date(decision.deadline)}. If something is wrong with it, our "
        "warranty may still cover it.",
    }
    return reasons[decision.reason]


class OrderNumberValidation(FormValidationAction):
    """Shared order lookup: the number's format, then its second factor, within limits."""

    def name(self) -> str:  # pragma: no cover - abstract base, never registered
        return "validate_order_number_base"

    def check_order(self, order: Order, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        """Extra checks of a verified order; the default accepts it."""
        return {}

    def validate_order_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A well-formed number is taken without a lookup: whether it exists is not said."""
        number = normalize_order_number(str(slot_value or ""))
        attempts = int(tracker.get_slot("order_number_attempts") or 0)
        if number is None:
            dispatcher.utter_message(
                response="utter_invalid_order_number", attempted=f'"{str(slot_value)[:40]}"'
            )
            return self._retry(attempts + 1, dispatcher)
        try:
            if lookups_locked(tracker.sender_id, _now()):
                return self._lock_out(dispatcher)
            accepted = {"order_number": number, "order_number_attempts": 0, VERIFIED: None}
            if tracker.get_slot(VERIFIED) == number:  # checked earlier in this conversation
                order = get_store().find_order(number)
                if order is not None:
                    return {**accepted, **self._verified(order, dispatcher)}
            return accepted
        except StoreUnavailable:
            return self._unavailable(dispatcher)

    async def extract_order_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Marks the customer's answer to the second-factor question, and only that."""
        asked = (
            tracker.get_slot("requested_slot") == VERIFIED
            and (tracker.active_loop or {}).get("name") == self.form_name()
        )
        return {VERIFIED: ANSWERED} if asked and self._is_answer(tracker) else {}

    def _is_answer(self, tracker: Tracker) -> bool:
        message = tracker.latest_message or {}
        offered = read_second_factor(message, settings().pii_key) is not None
        text = str(message.get("text") or "")
        intent = str((message.get("intent") or {}).get("name") or "")
        return offered or REDACTED_EMAIL in text or intent not in NOT_AN_ANSWER

    def validate_order_verified(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Checks the number with the offered email or postcode; a miss is a miss either way."""
        number = tracker.get_slot("order_number")
        if slot_value != ANSWERED or not number:  # a value kept from before: still ours?
            return {VERIFIED: slot_value if number and slot_value == number else None}
        message = tracker.latest_message or {}
        factor = read_second_factor(message, settings().pii_key)
        if factor is None:
            if REDACTED_EMAIL in str(message.get("text")):
                logger.warning("an email was redacted but no single digest came with it")
            attempts = int(tracker.get_slot("order_number_attempts") or 0) + 1
            return self._unreadable(attempts, dispatcher)
        try:
            return self._judge(tracker.sender_id, number, factor, dispatcher)
        except StoreUnavailable:
            return self._unavailable(dispatcher)

    def _judge(
        self, sender_id: str, number: str, factor: SecondFactor, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        """Verified, locked out, or a miss: the same words whichever half was wrong."""
        if lookups_locked(sender_id, _now()):
            return self._lock_out(dispatcher)
        order = check_pair(sender_id, number, factor)
        if order is not None:
            return {"order_number_attempts": 0, **self._verified(order, dispatcher)}
        if lookups_locked(sender_id, _now()):  # that miss was the last one allowed
            return self._lock_out(dispatcher)
        dispatcher.utter_message(response="utter_order_not_found", order_number=number)
        return {"order_number": None, VERIFIED: None, "order_number_attempts": 0}

    def _verified(self, order: Order, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        return {VERIFIED: order.number, **self.check_order(order, dispatcher)}

    def _unreadable(self, attempts: int, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        if attempts < MAX_ORDER_NUMBER_ATTEMPTS:
            dispatcher.utter_message(response="utter_order_check_unreadable")
            return {VERIFIED: None, "order_number_attempts": attempts}
        dispatcher.utter_message(response="utter_order_check_give_up")
        return {"order_number": None, VERIFIED: None, "order_number_attempts": 0, **STOP_FORM}

    def _lock_out(self, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        dispatcher.utter_message(response="utter_order_lookup_locked")
        return {"order_number": None, VERIFIED: None, "order_number_attempts": 0, **STOP_FORM}

    def _unavailable(self, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        logger.exception("order database unavailable")
        dispatcher.utter_message(response="utter_store_unavailable")
        return {"order_number": None, VERIFIED: None, **STOP_FORM}

    def _retry(self, attempts: int, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        if attempts < MAX_ORDER_NUMBER_ATTEMPTS:
            return {"order_number": None, "order_number_attempts": attempts}
        return self._give_up(dispatcher)

    def _give_up(self, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        dispatcher.utter_message(response="utter_order_not_found_final")
        return {"order_number": None, "order_number_attempts": 0, **STOP_FORM}


class ValidateOrderStatusForm(OrderNumberValidation):
    """Validates the order number asked for by the order status form."""

    def name(self) -> str:
        return "validate_order_status_form"


class ValidateReturnForm(OrderNumberValidation):
    """Validates the return form: the verified order must be returnable today."""

    def name(self) -> str:
        return "validate_return_form"

    def check_order(self, order: Order, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        decision = get_store().return_decision(order, dt.date.today())
        if decision.eligible:
            return {}
        dispatcher.utter_message(
            response="utter_plain", message=describe_return_refusal(order, decision)
        )
        return {"return_reason": None, **STOP_FORM}

    def validate_return_reason(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        reason = str(slot_value or "").strip()
        return {"return_reason": reason[:500] or None}


class ActionOrderStatus(Action):
    """Tells the customer where their order is."""

    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("order_number")
        if not number or tracker.get_slot(VERIFIED) != number:
            return []  # validation already told the customer why
        try:
            order = get_store().find_order(number)
        except StoreUnavailable:
            logger.exception("order database unavailable")
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        if order is not None:
            dispatcher.utter_message(response="utter_plain", message=describe_status(order))
        return []


class ActionStartReturn(Action):
    """Records a return for an eligible order and says what happens next."""

    def name(self) -> str:
        return "action_start_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("order_number")
        reason = tracker.get_slot("return_reason")
        if not number or not reason or tracker.get_slot(VERIFIED) != number:
            return []  # validation already explained why there is no return
        try:
            rma = get_store().record_return(number, reason, dt.date.today())
        except StoreUnavailable:
            logger.exception("order database unavailable")
            dispatcher.utter_message(response="utter_store_unavailable")
            return [SlotSet("return_reason", None)]
        dispatcher.utter_message(
            response="utter_plain",
            message=(
                f"Your return for order {number} is started: your return number is {rma}. "
                "We'll email you a prepaid UPS label within the hour. Pack the item, attach "
                "the label and drop it at any UPS location. We'll issue your refund within "
                "3 business days after it reaches our warehouse ($5.95 return shipping is "
                "deducted unless you're a Trail Club member or exchanging)."
            ),
        )
        return [SlotSet("return_reason", None)]
