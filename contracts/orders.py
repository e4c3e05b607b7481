"""Order numbers as the store writes them (``LS-123456``) and as customers type them."""

from __future__ import annotations

import re

# "LS-123456", "ls 123456", "#123456", "123456": six digits, optionally after "LS".
ORDER_NUMBER_RE = re.compile(r"\b(?:ls)?\s*[-#]?\s*(\d{6})\b", re.IGNORECASE)


def normalize_order_number(text: str) -> str | None:
    """``LS-######`` for any way a customer types an order number, else None."""
    match = ORDER_NUMBER_RE.search(text or "")
    return f"LS-{match.group(1)}" if match else None
