"""Personal data is redacted before anything is stored or sent to the bot: cards, bank
accounts (IBAN), emails, phone numbers.

Patterns, one module, used on every message the service stores and on the text it relays
to Rasa. A digit run is a card number only when it passes the Luhn check, and a letter-
and-digit run an IBAN only when it passes ISO 13616's mod-97 check, so order numbers
(``LS-204381``), tracking numbers and prices stay readable for the agents and the bot.
"""

from __future__ import annotations

import re

CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?!\w)")
# Two letters, two check digits, then up to 30 letters or digits, in groups of four or not.
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
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


def iban_valid(candidate: str) -> bool:
    """ISO 13616: the first four characters moved to the end, letters as 10-35, mod 97 is 1."""
    compact = candidate.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _iban(match: re.Match[str]) -> str:
    return "[iban]" if iban_valid(match.group(0)) else match.group(0)


def emails(text: str) -> list[str]:
    """The email addresses in a text, as typed."""
    return EMAIL.findall(text)


def redact(text: str) -> str:
    """The text with card numbers, IBANs, email addresses and phone numbers replaced."""
    text = IBAN.sub(_iban, text)
    text = CARD.sub(_card, text)
    text = EMAIL.sub("[email]", text)
    return PHONE.sub("[phone]", text)
