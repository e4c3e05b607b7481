"""The editors' studio: roles, what the bot understood, feedback, misses, labels,
checks and published versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="agent"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("understanding", sa.JSON(), nullable=True))
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_feedback_conversation_seq"),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("editor_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("target", sa.String(120)),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "misses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("label_id", sa.Integer, sa.ForeignKey("labels.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_misses_conversation_seq"),
    )
    op.create_index("ix_misses_status_id", "misses", ["status", "id"])
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("editor_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON()),
        sa.Column("error", sa.Text),
        sa.Column("live_version", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("check_id", sa.Integer, sa.ForeignKey("checks.id")),
        sa.Column("editor_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("model_hash", sa.String(64), nullable=False),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("commit", sa.String(40)),
        sa.Column("restored_from", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("live_since", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("versions")
    op.drop_table("checks")
    op.drop_index("ix_misses_status_id", table_name="misses")
    op.drop_table("misses")
    op.drop_table("labels")
    op.drop_table("feedback")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("understanding")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("role")
