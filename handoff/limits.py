"""Rate limits, in this process or shared by every instance through Redis.

``HANDOFF_RATE_LIMITS=local`` (the default) keeps a token bucket per key in memory
(``handoff.auth.RateLimiter``): right for one instance, but behind a proxy with several,
a client would get each instance's allowance. ``redis`` keeps the buckets in Redis
(``HANDOFF_REDIS_URL``), one per bucket name and key, refilled by Redis' own clock in one
atomic script, so every instance draws on the same allowance. If Redis cannot be reached,
the instance falls back to its own bucket for that request (limited still, if more
generously) and says so in its log.
"""

from __future__ import annotations

import logging
from typing import Any

from handoff.auth import RateLimiter

logger = logging.getLogger(__name__)
KEY_PREFIX = "larkspur:limit"
# tokens, refilled at ARGV[1] a second up to ARGV[2]; 1 when one was taken, else 0.
BUCKET_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return taken
"""


class Limits:
    """The service's rate limits by bucket name: ``await limits.allow("logins", address)``."""

    def __init__(self, per_minute: dict[str, int], redis_url: str | None = None) -> None:
        self.local = {name: RateLimiter(n) for name, n in per_minute.items()}
        self.per_minute = per_minute
        self.redis: Any = None
        self._script: Any = None
        if redis_url:
            import redis.asyncio as redis

            self.redis = redis.from_url(redis_url)
            self._script = self.redis.register_script(BUCKET_SCRIPT)

    async def allow(self, bucket: str, key: str) -> bool:
        if self._script is None:
            return self.local[bucket].allow(key)
        per_minute = self.per_minute[bucket]
        try:
            taken = await self._script(
                keys=[f"{KEY_PREFIX}:{bucket}:{key}"], args=[per_minute / 60.0, per_minute]
            )
        except Exception as error:  # Redis away: this instance's own bucket meanwhile
            logger.warning("shared rate limits unavailable (%s): using this instance's", error)
            return self.local[bucket].allow(key)
        return bool(taken)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close(close_connection_pool=True)
