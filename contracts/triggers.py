"""Why the assistant hands a conversation to a person: the escalation triggers.

The handoff service's request schema takes exactly these (an unknown trigger is a 400,
not the lowest priority), and the console labels each one.
"""

from __future__ import annotations

EXPLICIT = "explicit_request"
SENSITIVE = "sensitive_topic"
STRONG_NEGATIVE = "strong_negative"
NEGATIVE_TREND = "negative_trend"
LOW_CONFIDENCE = "low_confidence"
TRIGGERS = (EXPLICIT, SENSITIVE, STRONG_NEGATIVE, NEGATIVE_TREND, LOW_CONFIDENCE)
