"""Reply generator that acknowledges a customer's frustration before answering.

Configured in endpoints.yml (``nlg: type: bot.nlg.EmpatheticNLG``). It fills responses
like Rasa's own generator and, when the latest customer message is mildly frustrated
(``acknowledge_below`` in escalation.yml; angrier messages escalate instead), opens the
first reply of that turn with an apology, as a good support agent would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.escalation import SETTINGS_FILE, Settings, should_acknowledge
from bot.escalation_policy import customer_spoke_last

ACKNOWLEDGEMENT = "I'm sorry this has been frustrating."
NO_PREFIX = ("utter_sorry_frustrating", "utter_handoff_connecting", "utter_handoff_queued")


def frustration(tracker: DialogueStateTracker) -> float:
    """Sentiment score of the latest customer message (0 when unknown)."""
    sentiment = (tracker.latest_message.parse_data or {}).get("sentiment") or {}
    return float(sentiment.get("score", 0.0))


class EmpatheticNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator plus an apology for mildly frustrated customers."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Domain) -> None:
        super().__init__(domain.responses)
        path = (endpoint_config.kwargs or {}).get("settings_file", SETTINGS_FILE)
        self.settings = Settings.load(Path(path))

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response and response.get("text") and self._acknowledge(utter_action, tracker):
            text = response["text"]
            if not text.lower().startswith(("i'm sorry", "sorry")):
                response = {**response, "text": f"{ACKNOWLEDGEMENT} {text}"}
        return response

    def _acknowledge(self, utter_action: str, tracker: DialogueStateTracker) -> bool:
        mild = should_acknowledge(frustration(tracker), self.settings)
        return mild and utter_action not in NO_PREFIX and customer_spoke_last(tracker, BotUttered)
