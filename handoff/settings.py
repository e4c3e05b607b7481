"""One typed settings object, read once from ``HANDOFF_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from handoff.hours import BusinessHours

PREFIX = "HANDOFF_"


@dataclass(frozen=True)
class Settings:
    """Where the service listens, what it keeps, whom it lets in, how it orders the queue."""

    database_url: str = "sqlite+aiosqlite:///var/handoff.db"
    # PostgreSQL only: keep the tables in this schema (it must exist).
    database_schema: str = ""
    host: str = "127.0.0.1"
    port: int = 5080
    max_body_bytes: int = 64 * 1024
    # Shared with the action server (and the outbox), which posts escalations.
    service_token: str = ""
    # Rasa's HTTP API, for handing a conversation back to the bot.
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's --auth-token, also checked by the handoff channel that customer text goes to.
    rasa_token: str = ""
    # Keys the email digests sent beside redacted text (contracts.pii); none: no digests.
    pii_key: str = ""
    # Shared with the embedding site, which signs customer_ref with it (HMAC-SHA256);
    # none: no customer_ref is linked to a customer.
    identity_secret: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks,
    # comma-separated); any other peer is the client itself.
    trusted_proxies: str = ""
    # Open sockets one client address may hold; the next upgrade is a 429 too_many_sockets.
    sockets_per_address: int = 200
    agent_token_ttl_s: int = 8 * 3600
    # The studio: the checkout whose data/ editors change (labels are written there,
    # published models go to its models/), and where checks and versions are kept.
    content_dir: str = "."
    studio_dir: str = "var/studio"
    # The model Rasa was started with, until the studio publishes one.
    rasa_model: str = ""
    # "always", or e.g. "mon-fri 09:00-18:00, sat 10:00-14:00" in business_timezone.
    business_hours: str = "always"
    business_timezone: str = "UTC"
    # Estimated wait uses recent handle times; this one until there are any.
    default_handle_s: int = 480
    # Each priority level counts as having waited this much longer.
    priority_boost_s: int = 300
    # Sites whose pages may open the sockets and call the customer's routes (CORS, for a
    # store embedding the widget), comma-separated ("*" for any); the service's own origin
    # always may.
    allowed_origins: str = ""
    ws_heartbeat_s: int = 20
    ws_idle_s: int = 1800
    # Live events between several instances behind one proxy (handoff/events.py):
    # "local" (one instance), "redis" (a stream at redis_url) or "postgres" (NOTIFY on
    # the service's own database).
    events: str = "local"
    redis_url: str = "redis://127.0.0.1:6379/0"
    events_channel: str = "larkspur_events"  # the stream's key, or the NOTIFY channel
    # "local" (this instance's own buckets) or "redis" (shared by every instance).
    rate_limits: str = "local"
    customer_messages_per_minute: int = 30
    logins_per_minute: int = 10
    sessions_per_minute: int = 20

    def __post_init__(self) -> None:
        self.hours  # noqa: B018 - a bad schedule fails at start-up, not at the first handoff
        if self.events not in ("local", "redis", "postgres"):
            raise ValueError(f"HANDOFF_EVENTS is local, redis or postgres, not {self.events!r}")
        if self.rate_limits not in ("local", "redis"):
            raise ValueError(f"HANDOFF_RATE_LIMITS is local or redis, not {self.rate_limits!r}")
        if self.events == "postgres" and not self.database_url.startswith("postgresql"):
            raise ValueError("HANDOFF_EVENTS=postgres needs a PostgreSQL HANDOFF_DATABASE_URL")

    def embeds(self, origin: str) -> bool:
        """Whether pages from ``origin`` may embed the widget (sockets and customer routes)."""
        allowed = {o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()}
        return origin.rstrip("/") in allowed or "*" in allowed

    @property
    def hours(self) -> BusinessHours:
        return BusinessHours.parse(self.business_hours, self.business_timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """``HANDOFF_DATABASE_URL``, ``HANDOFF_PORT`` …; unset ones keep their default."""
        values: dict[str, object] = {}
        for field in fields(cls):
            name = PREFIX + field.name.upper()
            raw = environ.get(name)
            if raw is None:
                continue
            if field.type == "int":
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]
