"""Personal data is redacted before anything is stored: cards, emails, phone numbers.

Patterns, one module, used on every message the service stores. A digit run is a card
number only when it passes the Luhn check, so order numbers (``LS-204381``), tracking
numbers and prices stay readable for the agents.
"""

from __future__ import annotations

import re

CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?!\w)")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(
    r"(?<![\w-])(?<!\d[ .-])"  # not in the middle of a longer run of digit groups
    r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}"
    r"(?![ .-]?\d)(?!\w)"
)


def luhn_valid(digits: str) -> bool:
    """The checksum every payment card number satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def redact(text: str) -> str:
    """The text with card numbers, email addresses and phone numbers replaced."""
    text = CARD.sub(_card, text)
    text = EMAIL.sub("[email]", text)
    return PHONE.sub("[phone]", text)
