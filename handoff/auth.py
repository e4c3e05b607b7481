"""Passwords, tokens, signed customer references and rate limits.

Agent passwords are hashed with Argon2id (memory-hard). Tokens, the agents' and the
customers', are random and stored only as SHA-256 digests, so a copy of the database
lets nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from handoff.errors import Unauthorized

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes: the library's defaults


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """An unguessable token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison, so timing tells nothing about the secret."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def ref_signature(secret: str, ref: str) -> str:
    """What the embedding site sends beside ``customer_ref``: HMAC-SHA256, hex."""
    return hmac.new(secret.encode(), ref.encode(), hashlib.sha256).hexdigest()


def verified_ref(secret: str, ref: str | None, signature: str | None) -> str | None:
    """``ref`` if the site signed it with the shared secret, else None (never linked)."""
    if not (secret and ref and signature):
        return None
    return ref if hmac.compare_digest(ref_signature(secret, ref), signature.lower()) else None


def bearer(request: web.Request) -> str:
    """The token from ``Authorization: Bearer …``, or a 401 saying what is missing."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("missing_token", "Send your token as 'Authorization: Bearer <token>'.")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("invalid_token", "The Authorization header must be 'Bearer <token>'.")
    return token.strip()


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.max_keys:  # forget the longest-idle keys
            self._buckets.popitem(last=False)
        return allowed
