"""The Rasa policy that hands a conversation to a person, or asks once to clarify.

It runs beside the RulePolicy with a higher priority and stays silent unless
:func:`bot.escalation.decide` fires, so every other turn follows the rules:

- right after a customer message, any trigger but low confidence (explicit request,
  sensitive topic, strong negative, negative trend) predicts ``action_handoff``;
- a miss (an off-topic message, or a help-article search that found nothing): the first
  predicts ``action_clarify`` and ``max_misses`` misses in a row ``action_handoff``.

The decision rides along as the ``escalation`` slot, which ``action_handoff`` reads.
The thresholds are read from escalation.yml when the model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.escalation import Settings, consecutive_misses, decide, turns_from_events

HANDOFF = "action_handoff"
CLARIFY = "action_clarify"
SEARCH = "action_search_articles"


def customer_spoke_last(tracker: DialogueStateTracker, than: type[Event]) -> bool:
    """True when the latest customer message is newer than the latest ``than`` event."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, than):
            return False
    return False


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class EscalationPolicy(Policy):
    """Predicts the handoff (or one clarification) when an escalation trigger fires."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7, "settings_file": "escalation.yml"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, **kwargs)
        self.settings = Settings.load(Path(config["settings_file"]))

    def train(self, training_trackers: list[Any], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn: the thresholds are read from escalation.yml at start-up."""
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EscalationPolicy:
        return cls(config, model_storage, resource, execution_context)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self._next_action(tracker)
        if action is None:
            return self._prediction(self._default_predictions(domain))
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action[0])] = 1.0
        # Inside a form (order status asks for an email address) the RulePolicy's "carry on
        # with the form" is marked as not using the user's message, and Rasa lets such
        # predictions overrule every other: a furious customer would be asked for their
        # postcode again. A handoff competes on that footing too, and wins on priority;
        # the handoff action ends the form.
        return self._prediction(
            probabilities, optional_events=action[1], is_no_user_prediction=action[0] == HANDOFF
        )

    def _next_action(self, tracker: DialogueStateTracker) -> tuple[str, list[Any]] | None:
        latest = tracker.latest_action_name
        if latest in (HANDOFF, CLARIFY):
            return ACTION_LISTEN_NAME, []  # wait for the customer (or, paused, for a person)
        after_user = latest == ACTION_LISTEN_NAME and customer_spoke_last(tracker, ActionExecuted)
        after_miss = latest == SEARCH and tracker.get_slot("article_found") is False
        if not (after_user or after_miss):
            return None
        turns = turns_from_events([event.as_dict() for event in tracker.events], self.settings)
        decision = decide(turns, self.settings)
        if decision is not None:
            return HANDOFF, [SlotSet("escalation", decision.as_dict())]
        if turns and turns[-1].missed and consecutive_misses(turns) == 1:
            return CLARIFY, []  # the first miss: one clarification, never a loop
        return None
