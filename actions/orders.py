"""Order status and return flows: form validation and the actions that answer."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import Order, ReturnDecision, StoreUnavailable, get_store
from contracts.orders import normalize_order_number

logger = logging.getLogger(__name__)

MAX_ORDER_NUMBER_ATTEMPTS = 2
STOP_FORM = {"requested_slot": None}


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
    """Shared order-number validation: format, lookup, one retry, then a way out."""

    def name(self) -> str:  # pragma: no cover - abstract base, never registered
        return "validate_order_number_base"

    def check_order(self, order: Order, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        """Extra checks of a found order; the default accepts it."""
        return {}

    def validate_order_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        number = normalize_order_number(str(slot_value or ""))
        attempts = int(tracker.get_slot("order_number_attempts") or 0)
        if number is None:
            dispatcher.utter_message(
                response="utter_invalid_order_number", attempted=f'"{str(slot_value)[:40]}"'
            )
            return self._retry(attempts + 1, dispatcher)
        try:
            order = get_store().find_order(number)
            if order is None:
                return self._not_found(number, attempts + 1, dispatcher)
            return {
                "order_number": number,
                "order_number_attempts": 0,
                **self.check_order(order, dispatcher),
            }
        except StoreUnavailable:
            logger.exception("order database unavailable")
            dispatcher.utter_message(response="utter_store_unavailable")
            return {"order_number": None, **STOP_FORM}

    def _not_found(
        self, number: str, attempts: int, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if attempts < MAX_ORDER_NUMBER_ATTEMPTS:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            return {"order_number": None, "order_number_attempts": attempts}
        return self._give_up(dispatcher)

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
    """Validates the return form: the order must exist and be returnable today."""

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
        if not number:
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
        if not number or not reason:
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
