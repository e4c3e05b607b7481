"""The tables, in SQLAlchemy Core. Alembic migrations (``handoff/migrations``) create them.

Times are naive UTC (SQLite has no time zones). Personal data in message texts is
redacted before it reaches these tables (``handoff.redact``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    # The embedding site's own id for the customer, when it knows one: links visits.
    Column("ref", String(200), unique=True),
    Column("email", String(320)),
    Column("created_at", DateTime, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    # Public id, also the Rasa sender id: unguessable when the service made it.
    Column("id", String(64), primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    # sha256 of the customer's session token; the token itself is never stored.
    Column("token_hash", String(64), unique=True),
    Column("created_at", DateTime, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("speaker", String(16), nullable=False),  # customer, bot, agent, system
    Column("agent_id", Integer, ForeignKey("agents.id")),
    Column("text", Text, nullable=False),
    Column("client_id", String(64)),
    Column("intent", String(100)),
    Column("confidence", Float),
    Column("sentiment", Float),
    # Quick-reply buttons from the bot: [{"title": ..., "payload": ...}].
    Column("payload", JSON),
    # On a customer message the bot answered: what it understood (contracts.understanding).
    Column("understanding", JSON),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
    UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client"),
    Index("ix_messages_speaker_created", "speaker", "created_at"),  # the studio's FAQ usage
)

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), unique=True, nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("available", Boolean, nullable=False),
    # agent (takes chats), editor (the studio), lead (both)
    Column("role", String(16), nullable=False, server_default="agent"),
    Column("created_at", DateTime, nullable=False),
)

agent_tokens = Table(
    "agent_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False, index=True),
    Column("expires_at", DateTime, nullable=False),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(200), unique=True, nullable=False),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    # queued, assigned, resolved, returned, abandoned, offline
    Column("state", String(16), nullable=False),
    Column("trigger", String(40), nullable=False),
    Column("reason", JSON, nullable=False),
    Column("priority", Integer, nullable=False),
    # Queue order: created_at moved earlier by the priority boost; ties by id. Waiting
    # longer always wins in the end, so nobody starves.
    Column("rank_at", DateTime, nullable=False),
    Column("summary", Text, nullable=False),
    Column("score_trail", JSON, nullable=False),
    Column("transcript", JSON, nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id")),
    Column("created_at", DateTime, nullable=False),
    Column("assigned_at", DateTime),
    Column("first_response_at", DateTime),
    Column("closed_at", DateTime),
    Index("ix_handoffs_state_rank", "state", "rank_at", "id"),
    Index("ix_handoffs_conversation", "conversation_id"),
)

canned_responses = Table(
    "canned_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shortcut", String(40), unique=True, nullable=False),
    Column("text", Text, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

csat = Table(
    "csat",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("handoff_id", Integer, ForeignKey("handoffs.id")),
    Column("rating", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", name="uq_csat_conversation"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), index=True),
    Column("actor", String(60), nullable=False),  # "agent:3", "customer", "service"
    Column("action", String(40), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("detail", JSON),
    Column("created_at", DateTime, nullable=False),
)

# --- the editors' studio -----------------------------------------------------------

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # the bot's answer the customer rated
    Column("helpful", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "seq", name="uq_feedback_conversation_seq"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("editor_id", Integer, ForeignKey("agents.id"), nullable=False),
    # intent, faq, new_faq, out_of_scope, ignore
    Column("action", String(16), nullable=False),
    Column("target", String(120)),
    Column("detail", JSON, nullable=False),  # what was written where (studio.content.Written)
    Column("created_at", DateTime, nullable=False),
)

misses = Table(
    "misses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # the customer's message
    Column("text", Text, nullable=False),  # as stored: redacted
    Column("reasons", JSON, nullable=False),  # handoff.misses.REASONS that fired
    Column("ranking", JSON, nullable=False),  # the bot's top guesses: [[name, confidence]]
    Column("status", String(16), nullable=False),  # open, labelled, ignored
    Column("label_id", Integer, ForeignKey("labels.id")),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "seq", name="uq_misses_conversation_seq"),
    Index("ix_misses_status_id", "status", "id"),
)

checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("editor_id", Integer, ForeignKey("agents.id"), nullable=False),
    # queued, running, passed, blocked, failed, published
    Column("state", String(16), nullable=False),
    Column("stages", JSON, nullable=False),  # the worker's progress lines, latest per stage
    Column("report", JSON),  # studio.gate.GateReport
    Column("error", Text),
    Column("live_version", Integer),  # the version live when it started: compared with
    Column("created_at", DateTime, nullable=False),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    # None for the original: the model and data/ live before the studio's first publish.
    Column("check_id", Integer, ForeignKey("checks.id")),
    Column("editor_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("model_hash", String(64), nullable=False),
    Column("diff", Text, nullable=False),  # of data/ against the version live before it
    Column("commit", String(40)),  # the git commit of data/, when it is a work tree
    Column("restored_from", Integer),  # a roll back: the version made live again
    Column("created_at", DateTime, nullable=False),
    Column("live_since", DateTime),
)
