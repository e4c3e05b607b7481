"""Personal data never reaches the handoff database."""

from __future__ import annotations

import pytest

from handoff.redact import emails, luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 thanks", "my card is [card] thanks"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("5500005555555559 got charged twice", "[card] got charged twice"),
        ("mail me at jo.smith+gear@example.co.uk please", "mail me at [email] please"),
        ("call 828-555-0142 after 5", "call [phone] after 5"),
        ("my number is (828) 555 0142", "my number is [phone]"),
        ("ring +44 20 7946 0958", "ring [phone]"),
        ("refund to GB82 WEST 1234 5698 7654 32 please", "refund to [iban] please"),
        ("iban DE89370400440532013000", "iban [iban]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "where is LS-204381?",
        "tracking 1Z999AA10123456784",
        "it cost $149.95 on 2026-11-03",
        "4111 1111 1111 1112 is not a real card",  # fails the Luhn check
        "the Cascade 45 fits torsos of 15 to 21 inches",
        "GB82 WEST 1234 5698 7654 33 has a wrong check digit",
    ],
)
def test_order_numbers_prices_and_non_cards_stay(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_emails_are_found_as_typed() -> None:
    assert emails("mine is Jo@Example.com, or jo@work.example") == [
        "Jo@Example.com",
        "jo@work.example",
    ]
