"""Pseudonyms for personal data that must be compared but never stored.

The handoff service redacts an email address before the text reaches Rasa, and sends
its keyed digest beside the text (``metadata["email_digests"]``); the action server
compares that digest with the digest of the order's email. Both use this function with
the install's ``pii_key``, so neither the tracker nor a log ever holds the address.
"""

from __future__ import annotations

import hashlib
import hmac

EMAIL_DIGESTS = "email_digests"  # the metadata key the handoff service fills


def email_digest(key: str, email: str) -> str:
    """A keyed SHA-256 digest of an email address, the same for any case or spacing."""
    normalized = email.strip().lower()
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()
